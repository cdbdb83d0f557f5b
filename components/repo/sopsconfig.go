package repo

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/capstan-gitops/capstan/internal/sops"
)

// SOPSConfigFile is the sops configuration at the repository root, where
// sops (run from the repository) and `capstan secret encrypt` find it.
const SOPSConfigFile = sops.ConfigName

// ManifestEncryptedRegex is the encrypted_regex of the rule for manifests:
// a Secret's values are encrypted, its kind and metadata stay readable.
const ManifestEncryptedRegex = "^(data|stringData)$"

// SOPSConfigError is a .sops.yaml that bootstrap cannot extend without
// changing the user's rules; Hint says what to do.
type SOPSConfigError struct {
	Msg, Advice string
}

// Error is the one line.
func (e *SOPSConfigError) Error() string { return e.Msg }

// Hint is what to do about it.
func (e *SOPSConfigError) Hint() string { return e.Advice }

// sopsSample is a file name standing for a kind of file below the path:
// whether its rule encrypts every value (dotenv and INI files, which have
// no data or stringData key) or a manifest's values only.
type sopsSample struct {
	name      string
	wholeFile bool
}

var sopsSamples = []sopsSample{{"secret.env", true}, {"secret.ini", true}, {"secret.yaml", false}, {"secret.json", false}}

// SOPSConfig returns the .sops.yaml with which sops and `capstan secret
// encrypt` encrypt the files below dir (a slash path from the repository
// root) for recipient: dotenv and INI files whole, any other file's data
// and stringData. existing is the repository's .sops.yaml, nil if there is
// none: its rules are kept, in order, and the rules it lacks are appended
// (so they apply only to files no rule of the user's matched before);
// changed is false if it needs none. A rule of the user's that already
// applies to files below dir without encrypting for recipient is refused
// with a *SOPSConfigError, never changed.
func SOPSConfig(existing []byte, dir, recipient string) ([]byte, bool, error) {
	if existing == nil {
		out, err := encodeSOPSConfig(freshSOPSConfig(dir, recipient))
		if err != nil {
			return nil, false, err
		}
		return out, true, checkSOPSConfig(out, dir, recipient)
	}
	wholeFile, manifests, err := missingRules(existing, dir, recipient)
	if err != nil || (!wholeFile && !manifests) {
		return nil, false, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(existing, &doc); err != nil {
		return nil, false, fmt.Errorf("%s: %w", SOPSConfigFile, err)
	}
	seq, err := creationRules(&doc)
	if err != nil {
		return nil, false, err
	}
	added := len(seq.Content)
	if wholeFile {
		seq.Content = append(seq.Content, sopsRule(dir, recipient, true))
	}
	if manifests {
		seq.Content = append(seq.Content, sopsRule(dir, recipient, false))
	}
	seq.Content[added].HeadComment = "Added by `capstan bootstrap --generate-age-key` for " + dir + "/."
	out, err := encodeSOPSConfig(&doc)
	if err != nil {
		return nil, false, err
	}
	return out, true, checkSOPSConfig(out, dir, recipient)
}

// missingRules says which of the two rules existing lacks for dir, and
// refuses a rule of the user's that applies without recipient.
func missingRules(existing []byte, dir, recipient string) (wholeFile, manifests bool, err error) {
	for _, s := range sopsSamples {
		rel := dir + "/" + s.name
		r, err := sops.MatchCreationRule(existing, rel)
		switch {
		case errors.Is(err, sops.ErrNoCreationRule):
			wholeFile, manifests = wholeFile || s.wholeFile, manifests || !s.wholeFile
		case err != nil:
			return false, false, &SOPSConfigError{Msg: fmt.Sprintf("the repository's %s: %v", SOPSConfigFile, err),
				Advice: "fix " + SOPSConfigFile + " or give " + dir + "/ a rule of age keys first; bootstrap keeps the rules it finds"}
		case !slices.Contains(r.Recipients, recipient):
			keys := "no age key"
			if len(r.Recipients) > 0 {
				keys = strings.Join(r.Recipients, ", ")
			}
			return false, false, &SOPSConfigError{
				Msg: fmt.Sprintf("the repository's %s already has a rule for %s (creation_rules[%d], for %s): it does not encrypt for the new key %s",
					SOPSConfigFile, rel, r.Index, keys, recipient),
				Advice: "bootstrap with --age-key-file and a key of that rule's recipients, or add the new key to the rule's age list and run again",
			}
		}
	}
	return wholeFile, manifests, nil
}

// freshSOPSConfig is the .sops.yaml of a repository that has none: YAML
// indented by 2, as kubectl and `capstan secret encrypt` write it, so that
// `sops --decrypt` gives back the manifest byte for byte.
func freshSOPSConfig(dir, recipient string) *yaml.Node {
	indent := mapping(str("indent"), &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "2"})
	root := mapping(
		str("stores"), mapping(str("yaml"), indent),
		str("creation_rules"), &yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{sopsRule(dir, recipient, true), sopsRule(dir, recipient, false)}},
	)
	root.HeadComment = "Written by `capstan bootstrap --generate-age-key`: sops and `capstan secret encrypt`\n" +
		"encrypt the files below " + dir + "/ for this cluster's age key. Manifests: only\n" +
		"data and stringData; .env and .ini files (secretGenerator sources): every value."
	return &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
}

// sopsRule is the creation rule for dotenv and INI files below dir
// (wholeFile) or for every other file below it.
func sopsRule(dir, recipient string, wholeFile bool) *yaml.Node {
	prefix := "^" + regexp.QuoteMeta(dir) + "/"
	if wholeFile {
		return mapping(str("path_regex"), str(prefix+`.*\.(env|ini)$`), str("age"), str(recipient))
	}
	return mapping(str("path_regex"), str(prefix), str("encrypted_regex"), str(ManifestEncryptedRegex), str("age"), str(recipient))
}

// creationRules is the creation_rules sequence of the document, added if
// it has none.
func creationRules(doc *yaml.Node) (*yaml.Node, error) {
	if doc.Kind == 0 { // an empty file
		*doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{mapping()}}
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the repository's %s is not a mapping", SOPSConfigFile)
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "creation_rules" {
			continue
		}
		v := root.Content[i+1]
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			*v = yaml.Node{Kind: yaml.SequenceNode}
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("the repository's %s: creation_rules is not a list", SOPSConfigFile)
		}
		v.Style = 0 // block style, also for a flow-style list
		return v, nil
	}
	seq := &yaml.Node{Kind: yaml.SequenceNode}
	root.Content = append(root.Content, str("creation_rules"), seq)
	return seq, nil
}

// checkSOPSConfig proves the result: every kind of file below dir is
// encrypted for recipient, whole or by ManifestEncryptedRegex, and the
// file is one sops reads.
func checkSOPSConfig(out []byte, dir, recipient string) error {
	for _, s := range sopsSamples {
		r, err := sops.MatchCreationRule(out, dir+"/"+s.name)
		if err != nil || !slices.Contains(r.Recipients, recipient) {
			return fmt.Errorf("rendering %s: the rule for %s/%s does not encrypt for %s (%v)", SOPSConfigFile, dir, s.name, recipient, err)
		}
	}
	return nil
}

func encodeSOPSConfig(doc *yaml.Node) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", SOPSConfigFile, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encoding %s: %w", SOPSConfigFile, err)
	}
	return b.Bytes(), nil
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// mapping is a block mapping of alternating keys and values.
func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}
