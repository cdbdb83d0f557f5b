package memtrim

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadOnlyRegions(t *testing.T) {
	t.Parallel()
	const exe = "/usr/local/bin/capstan"
	tests := []struct {
		name    string
		maps    string
		want    []region
		wantErr bool
	}{
		{
			name: "code and read-only data, not data or others",
			maps: `00400000-0242c000 r-xp 00000000 fe:00 1234   /usr/local/bin/capstan
0242c000-04802000 r--p 0202c000 fe:00 1234   /usr/local/bin/capstan
04802000-048fd000 rw-p 04402000 fe:00 1234   /usr/local/bin/capstan
048fd000-06a55000 rw-p 00000000 00:00 0
7f6177260000-7f6177600000 r--p 00000000 fe:00 99   /usr/lib/locale/C.utf8
7ffd1000-7ffd3000 r-xp 00000000 00:00 0                          [vdso]
`,
			want: []region{{0x400000, 0x242c000}, {0x242c000, 0x4802000}},
		},
		{
			name: "a path that only starts like the executable",
			maps: "00400000-00500000 r-xp 00000000 fe:00 1 /usr/local/bin/capstan-old\n",
		},
		{
			name:    "a broken range",
			maps:    "zz-00500000 r-xp 00000000 fe:00 1 /usr/local/bin/capstan\n",
			wantErr: true,
		},
		{
			name:    "an empty range",
			maps:    "00500000-00500000 r-xp 00000000 fe:00 1 /usr/local/bin/capstan\n",
			wantErr: true,
		},
		{name: "empty", maps: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := readOnlyRegions([]byte(tt.maps), exe)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(region{})); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadOnlyRegionsPathWithSpaces(t *testing.T) {
	t.Parallel()
	got, err := readOnlyRegions([]byte("00400000-00500000 r-xp 00000000 fe:00 1        /tmp/my dir/capstan\n"), "/tmp/my dir/capstan")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]region{{0x400000, 0x500000}}, got, cmp.AllowUnexported(region{})); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
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
		if got := residentFileKiB([]byte(tt.status)); got != tt.want {
			t.Errorf("residentFileKiB(%q) = %d, want %d", tt.status, got, tt.want)
		}
	}
}
