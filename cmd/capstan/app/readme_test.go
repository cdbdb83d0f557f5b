package app

import (
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/urfave/cli/v2"
)

// readmeRow is one command of the README's command table: the command
// (`capstan NAME …`), the flags its synopsis shows, and the whole row.
type readmeRow struct {
	name  string
	flags []string
	text  string
}

// readmeCommands parses the table under the header "| command | what it does |".
func readmeCommands(t *testing.T, readme string) []readmeRow {
	t.Helper()
	// synopsisPattern finds `capstan NAME …` in the first cell of a row,
	// flagPattern --flag and -f in a synopsis.
	synopsisPattern := regexp.MustCompile("`capstan ([a-z][a-z-]*)([^`]*)`")
	flagPattern := regexp.MustCompile(`(?:^|[\s\[|(])(--?[a-zA-Z][a-zA-Z0-9-]*)`)
	_, table, ok := strings.Cut(readme, "| command | what it does |\n")
	if !ok {
		t.Fatal("README.md has no table with the header | command | what it does |")
	}
	var rows []readmeRow
	for _, line := range strings.Split(table, "\n") {
		if !strings.HasPrefix(line, "|") {
			break // the table ends at the first line that is not a row
		}
		if strings.HasPrefix(line, "| ---") {
			continue
		}
		// The first cell ends at the first " | " (a \| inside it is escaped).
		first, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " | ")
		matches := synopsisPattern.FindAllStringSubmatch(first, -1)
		if len(matches) == 0 {
			t.Errorf("README command table row names no `capstan COMMAND`: %s", line)
		}
		for _, m := range matches {
			row := readmeRow{name: m[1], text: line}
			for _, f := range flagPattern.FindAllStringSubmatch(m[2], -1) {
				row.flags = append(row.flags, f[1])
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// TestREADMECommandTable keeps the README's command table in step with the
// CLI: it lists exactly the commands `capstan --help` lists, names their
// aliases, and every flag its synopses show exists.
func TestREADMECommandTable(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeCommands(t, string(data))
	a := newApp(io.Discard, io.Discard)
	a.Setup() // adds the help command, as --help shows it
	commands := map[string]*cli.Command{}
	var want []string
	for _, c := range a.VisibleCommands() {
		commands[c.Name] = c
		want = append(want, c.Name)
	}
	var got []string
	for _, r := range rows {
		if !slices.Contains(got, r.name) {
			got = append(got, r.name)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("README command table (-capstan --help +README):\n%s", diff)
	}
	for _, r := range rows {
		c := commands[r.name]
		for _, alias := range c.Aliases {
			if !strings.Contains(r.text, "`"+alias+"`") {
				t.Errorf("README row of %s does not name its alias `%s`: %s", r.name, alias, r.text)
			}
		}
		for _, f := range r.flags {
			if !hasFlag(c, strings.TrimLeft(f, "-")) {
				t.Errorf("README shows `capstan %s %s`, but %s has no such flag", r.name, f, r.name)
			}
		}
	}
}

func hasFlag(c *cli.Command, name string) bool {
	for _, f := range c.Flags {
		if slices.Contains(f.Names(), name) {
			return true
		}
	}
	// `capstan create sync --url`: the flags of a subcommand count.
	for _, sub := range c.Subcommands {
		if hasFlag(sub, name) {
			return true
		}
	}
	return false
}

func TestReadmeCommandsParsesRows(t *testing.T) {
	t.Parallel()
	readme := "intro\n\n| command | what it does |\n| --- | --- |\n" +
		"| `capstan status [NAME] [-A] [-o json\\|yaml]` (alias `get`) | the Syncs |\n" +
		"| `capstan suspend NAME` / `capstan resume NAME [--wait=false]` | stop, go |\n" +
		"\nafter the table: `capstan nothing`\n"
	got := readmeCommands(t, readme)
	want := []readmeRow{
		{name: "status", flags: []string{"-A", "-o"}, text: "| `capstan status [NAME] [-A] [-o json\\|yaml]` (alias `get`) | the Syncs |"},
		{name: "suspend", text: "| `capstan suspend NAME` / `capstan resume NAME [--wait=false]` | stop, go |"},
		{name: "resume", flags: []string{"--wait"}, text: "| `capstan suspend NAME` / `capstan resume NAME [--wait=false]` | stop, go |"},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(readmeRow{})); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}
