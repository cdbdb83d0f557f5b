package memtrim

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// smapsEntry is one mapping of a /proc/<pid>/smaps listing with the
// fields readOnlyRegions reads.
func smapsEntry(header string, anonKiB, swapKiB int) string {
	return header + "\nSize:                  8 kB\nRss:                   8 kB\n" +
		"Anonymous:             " + strconv.Itoa(anonKiB) + " kB\nSwap:                  " + strconv.Itoa(swapKiB) + " kB\nVmFlags: rd ex mr mw me\n"
}

func TestReadOnlyRegions(t *testing.T) {
	t.Parallel()
	const exe = "/usr/local/bin/capstan"
	tests := []struct {
		name    string
		smaps   string
		exe     string
		want    []region
		wantErr bool
	}{
		{
			name: "code and read-only data, not data or others",
			smaps: smapsEntry("00400000-0242c000 r-xp 00000000 fe:00 1234   /usr/local/bin/capstan", 0, 0) +
				smapsEntry("0242c000-04802000 r--p 0202c000 fe:00 1234   /usr/local/bin/capstan", 0, 0) +
				smapsEntry("04802000-048fd000 rw-p 04402000 fe:00 1234   /usr/local/bin/capstan", 600, 0) +
				smapsEntry("048fd000-06a55000 rw-p 00000000 00:00 0", 2000, 0) +
				smapsEntry("7f6177260000-7f6177600000 r--p 00000000 fe:00 99   /usr/lib/locale/C.utf8", 0, 0) +
				smapsEntry("7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]", 0, 0),
			want: []region{{start: 0x400000, end: 0x242c000}, {start: 0x242c000, end: 0x4802000}},
		},
		{
			name: "relocated read-only data holds private copies",
			smaps: smapsEntry("00400000-0242c000 r-xp 00000000 fe:00 1234 /usr/local/bin/capstan", 0, 0) +
				smapsEntry("04802000-04803000 r--p 04402000 fe:00 1234 /usr/local/bin/capstan", 4, 0) +
				smapsEntry("04803000-04804000 r--p 04403000 fe:00 1234 /usr/local/bin/capstan", 0, 4),
			want: []region{{start: 0x400000, end: 0x242c000}, {start: 0x4802000, end: 0x4803000, modified: true}, {start: 0x4803000, end: 0x4804000, modified: true}},
		},
		{
			name:  "a path that only starts like the executable",
			smaps: smapsEntry("00400000-00500000 r-xp 00000000 fe:00 1 /usr/local/bin/capstan-old", 0, 0),
		},
		{
			name:  "a path with spaces",
			smaps: smapsEntry("00400000-00500000 r-xp 00000000 fe:00 1        /tmp/my dir/capstan", 0, 0),
			exe:   "/tmp/my dir/capstan",
			want:  []region{{start: 0x400000, end: 0x500000}},
		},
		{
			name:    "a broken range",
			smaps:   smapsEntry("zz-00500000 r-xp 00000000 fe:00 1 /usr/local/bin/capstan", 0, 0),
			wantErr: true,
		},
		{
			name:    "an empty range",
			smaps:   smapsEntry("00500000-00500000 r-xp 00000000 fe:00 1 /usr/local/bin/capstan", 0, 0),
			wantErr: true,
		},
		{name: "empty", smaps: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := tt.exe
			if e == "" {
				e = exe
			}
			got, err := readOnlyRegions([]byte(tt.smaps), e)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(region{})); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestResidentFileKiB(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status string
		want   int64
	}{
		{"Name:\tcapstan\nRssAnon:\t    9036 kB\nRssFile:\t   49748 kB\nRssShmem:\t       0 kB\n", 49748},
		{"Name:\tcapstan\n", -1},
		{"RssFile:\tlots kB\n", -1},
	}
	for _, tt := range tests {
		if got := ResidentFileKiB([]byte(tt.status)); got != tt.want {
			t.Errorf("ResidentFileKiB(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}
