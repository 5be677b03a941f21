// Command tlog checks Lethe's audit-log formats against golang.org/x/mod/sumdb/note and
// golang.org/x/mod/sumdb/tlog, the packages Go's checksum database is built on, so that
// interoperability is tested against an implementation Lethe did not write.
//
// It builds in GOPATH mode against Debian's golang-golang-x-mod-dev, with no module download:
//
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= go run main.go generate > FILE
//	GOPATH=/usr/share/gocode GO111MODULE=off GOFLAGS= go run main.go verify DIR
//
// generate prints a JSON fixture made by Go alone: a tree over fixed entries (tlog.RecordHash,
// tlog.StoredHashes, tlog.TreeHash), a checkpoint signed with note.Sign, the verifier key, and
// inclusion (tlog.ProveRecord) and consistency (tlog.ProveTree) proofs for every pair of sizes.
// The signing key comes from a fixed public seed so that the output is reproducible; it signs
// nothing but this fixture.
//
// tiles reads a Lethe audit log as static files, as an auditor would: AUDIT-DIR is the store's
// audit/ folder (checkpoint, checkpoints/, tile/). The checkpoint is opened with note.Open; the
// hash tiles are read through tlog.TileHashReader, which checks every tile it reads against
// the signed tree; tlog.TreeHash must give the signed root; every entry of every bundle must
// hash (tlog.RecordHash) to its stored leaf and have an inclusion proof (tlog.ProveRecord,
// tlog.CheckRecord); and every archived checkpoint must be consistent with the newest
// (tlog.ProveTree, tlog.CheckTree).
//
// verify reads what Lethe wrote into DIR: checkpoint.txt (a signed note, byte for byte as Lethe
// stores it), verifier-key.txt (name+hash+base64(0x01 || public key)) and tree.json (the same
// schema as generate's output: entries and proofs). It checks them with note.NewVerifier,
// note.Open, tlog.CheckRecord and tlog.CheckTree, and exits 0 if everything verifies, 1 with a
// message otherwise, 2 on a usage error.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// tree is the JSON exchanged in both directions.
type tree struct {
	Header      string        `json:"header,omitempty"`
	Origin      string        `json:"origin,omitempty"`
	Note        string        `json:"note,omitempty"`
	VerifierKey string        `json:"verifierKey,omitempty"`
	Entries     [][]byte      `json:"entries"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

// inclusion is the proof that entry Index is in the tree of the first TreeSize entries.
type inclusion struct {
	Index    int64            `json:"index"`
	TreeSize int64            `json:"treeSize"`
	Root     tlog.Hash        `json:"root"`
	Proof    tlog.RecordProof `json:"proof"`
}

// consistency is the proof that the tree of OldSize entries is a prefix of the one of NewSize.
type consistency struct {
	OldSize int64          `json:"oldSize"`
	NewSize int64          `json:"newSize"`
	OldRoot tlog.Hash      `json:"oldRoot"`
	NewRoot tlog.Hash      `json:"newRoot"`
	Proof   tlog.TreeProof `json:"proof"`
}

const origin = "example.com/lethe-interop"

func main() {
	switch {
	case len(os.Args) == 2 && os.Args[1] == "generate":
		if err := generate(); err != nil {
			fail(err)
		}
	case len(os.Args) == 3 && os.Args[1] == "verify":
		if err := verify(os.Args[2]); err != nil {
			fail(err)
		}
		fmt.Println("ok: note signature, tree root, inclusion and consistency proofs verify")
	case len(os.Args) == 4 && os.Args[1] == "tiles":
		summary, err := tiles(os.Args[2], os.Args[3])
		if err != nil {
			fail(err)
		}
		fmt.Println("ok:", summary)
	default:
		fmt.Fprintln(os.Stderr, "usage: tlog generate > FIXTURE.json | tlog verify DIR | tlog tiles AUDIT-DIR VERIFIER-KEY-FILE")
		os.Exit(2)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "tlog:", err)
	os.Exit(1)
}

// hashStore keeps the stored hashes of a tree in tlog's layout, in memory.
type hashStore []tlog.Hash

func (s *hashStore) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, index := range indexes {
		if index < 0 || index >= int64(len(*s)) {
			return nil, fmt.Errorf("no stored hash %d", index)
		}
		out[i] = (*s)[index]
	}
	return out, nil
}

func build(entries [][]byte) (*hashStore, error) {
	store := &hashStore{}
	for n, entry := range entries {
		hashes, err := tlog.StoredHashes(int64(n), entry, store)
		if err != nil {
			return nil, err
		}
		*store = append(*store, hashes...)
	}
	return store, nil
}

func generate() error {
	entries := [][]byte{
		{}, []byte("a"), []byte("lethe"), {0x00}, {0x01, 0x02}, []byte("{\"index\":5}"),
		[]byte("entry six\n"), bytes.Repeat([]byte{0xff}, 33), []byte("8"), []byte("nine"),
		[]byte("ten"), []byte("eleven"), []byte("twelve, the last one"),
	}
	store, err := build(entries)
	if err != nil {
		return err
	}
	n := int64(len(entries))
	out := tree{Origin: origin, Entries: entries}
	for size := int64(1); size <= n; size++ {
		root, err := tlog.TreeHash(size, store)
		if err != nil {
			return err
		}
		for index := int64(0); index < size; index++ {
			proof, err := tlog.ProveRecord(size, index, store)
			if err != nil {
				return err
			}
			out.Inclusion = append(out.Inclusion, inclusion{index, size, root, proof})
		}
		for old := int64(1); old <= size; old++ {
			oldRoot, err := tlog.TreeHash(old, store)
			if err != nil {
				return err
			}
			proof, err := tlog.ProveTree(size, old, store)
			if err != nil {
				return err
			}
			out.Consistency = append(out.Consistency, consistency{old, size, oldRoot, root, proof})
		}
	}

	seed := sha256.Sum256([]byte("lethe tlog interop fixture key: public, signs nothing else"))
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seed[:]), origin)
	if err != nil {
		return err
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		return err
	}
	root, err := tlog.TreeHash(n, store)
	if err != nil {
		return err
	}
	text := fmt.Sprintf("%s\n%d\n%s\n", origin, n, base64.StdEncoding.EncodeToString(root[:]))
	signed, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return err
	}
	out.Note = string(signed)
	out.VerifierKey = vkey
	out.Header = fmt.Sprintf("Generated by `go run Tests/Interop/tlog/main.go generate` (GOPATH=/usr/share/gocode "+
		"GO111MODULE=off) with %s and golang.org/x/mod %s: entries hashed with tlog.RecordHash and tlog.StoredHashes, roots "+
		"by tlog.TreeHash, proofs by tlog.ProveRecord and tlog.ProveTree, the checkpoint signed with note.Sign by a key "+
		"that note.GenerateKey derived from a fixed public seed. Entries and hashes are base64.", runtime.Version(), modVersion())

	encoded, err := encode(out)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(encoded)
	return err
}

// encode writes t as JSON with one array element per line, so that a change to the fixture
// shows up as a readable diff of a few lines.
func encode(t tree) ([]byte, error) {
	var buf bytes.Buffer
	field := func(name string, value interface{}, last bool) error {
		encoded, err := json.Marshal(value)
		if err != nil {
			return err
		}
		fmt.Fprintf(&buf, "  %q: %s", name, encoded)
		if !last {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
		return nil
	}
	list := func(name string, count int, element func(int) interface{}, last bool) error {
		fmt.Fprintf(&buf, "  %q: [\n", name)
		for i := 0; i < count; i++ {
			encoded, err := json.Marshal(element(i))
			if err != nil {
				return err
			}
			buf.WriteString("    ")
			buf.Write(encoded)
			if i < count-1 {
				buf.WriteString(",")
			}
			buf.WriteString("\n")
		}
		buf.WriteString("  ]")
		if !last {
			buf.WriteString(",")
		}
		buf.WriteString("\n")
		return nil
	}
	buf.WriteString("{\n")
	for _, err := range []error{
		field("header", t.Header, false),
		field("origin", t.Origin, false),
		field("note", t.Note, false),
		field("verifierKey", t.VerifierKey, false),
		list("entries", len(t.Entries), func(i int) interface{} { return t.Entries[i] }, false),
		list("inclusion", len(t.Inclusion), func(i int) interface{} { return t.Inclusion[i] }, false),
		list("consistency", len(t.Consistency), func(i int) interface{} { return t.Consistency[i] }, true),
	} {
		if err != nil {
			return nil, err
		}
	}
	buf.WriteString("}\n")
	return buf.Bytes(), nil
}

// modVersion names the x/mod this binary was built with: in GOPATH mode the build records no
// module versions, so ask dpkg for the Debian package that provides it.
func modVersion() string {
	version, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "golang-golang-x-mod-dev").Output()
	if err != nil || len(version) == 0 {
		return "(version unknown: not Debian's golang-golang-x-mod-dev)"
	}
	return string(version) + " (Debian golang-golang-x-mod-dev)"
}

func verify(dir string) error {
	text, err := os.ReadFile(filepath.Join(dir, "checkpoint.txt"))
	if err != nil {
		return err
	}
	vkey, err := os.ReadFile(filepath.Join(dir, "verifier-key.txt"))
	if err != nil {
		return err
	}
	encoded, err := os.ReadFile(filepath.Join(dir, "tree.json"))
	if err != nil {
		return err
	}
	var in tree
	if err := json.Unmarshal(encoded, &in); err != nil {
		return fmt.Errorf("tree.json: %v", err)
	}

	verifier, err := note.NewVerifier(strings.TrimSuffix(string(vkey), "\n"))
	if err != nil {
		return fmt.Errorf("verifier key: %v", err)
	}
	opened, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return fmt.Errorf("checkpoint note: %v", err)
	}
	size, root, err := parseCheckpoint(opened.Text, verifier.Name())
	if err != nil {
		return err
	}

	store, err := build(in.Entries)
	if err != nil {
		return err
	}
	n := int64(len(in.Entries))
	if size > n {
		return fmt.Errorf("checkpoint covers %d entries, tree.json has %d", size, n)
	}
	rootOf := func(size int64) (tlog.Hash, error) {
		if size < 1 || size > n {
			return tlog.Hash{}, fmt.Errorf("tree size %d outside 1...%d", size, n)
		}
		return tlog.TreeHash(size, store)
	}
	if ours, err := rootOf(size); err != nil || ours != root {
		return fmt.Errorf("checkpoint root %v is not tlog's root of the first %d entries", root, size)
	}
	if len(in.Inclusion) == 0 || len(in.Consistency) == 0 {
		return errors.New("tree.json has no inclusion or no consistency proofs")
	}

	for _, p := range in.Inclusion {
		if p.Index < 0 || p.Index >= n {
			return fmt.Errorf("inclusion proof for entry %d of %d", p.Index, n)
		}
		if ours, err := rootOf(p.TreeSize); err != nil || ours != p.Root {
			return fmt.Errorf("inclusion proof of entry %d: root of tree size %d is not tlog's", p.Index, p.TreeSize)
		}
		if err := tlog.CheckRecord(p.Proof, p.TreeSize, p.Root, p.Index, tlog.RecordHash(in.Entries[p.Index])); err != nil {
			return fmt.Errorf("inclusion proof of entry %d in tree size %d: %v", p.Index, p.TreeSize, err)
		}
	}
	for _, p := range in.Consistency {
		oldRoot, err1 := rootOf(p.OldSize)
		newRoot, err2 := rootOf(p.NewSize)
		if err1 != nil || err2 != nil || oldRoot != p.OldRoot || newRoot != p.NewRoot {
			return fmt.Errorf("consistency proof %d -> %d: roots are not tlog's", p.OldSize, p.NewSize)
		}
		if err := tlog.CheckTree(p.Proof, p.NewSize, p.NewRoot, p.OldSize, p.OldRoot); err != nil {
			return fmt.Errorf("consistency proof %d -> %d: %v", p.OldSize, p.NewSize, err)
		}
	}
	return nil
}

// parseCheckpoint reads a C2SP tlog-checkpoint body: the origin (which must be the key's name,
// as Lethe signs it), the size in canonical decimal, the base64 root hash, then optional extension
// lines. tlog.ParseTree cannot be used: it accepts only the origin "go.sum database tree".
func parseCheckpoint(text, keyName string) (int64, tlog.Hash, error) {
	lines := strings.SplitN(text, "\n", 4)
	if len(lines) < 4 {
		return 0, tlog.Hash{}, errors.New("checkpoint has fewer than three lines")
	}
	if lines[0] != keyName {
		return 0, tlog.Hash{}, fmt.Errorf("checkpoint origin %q is not the key name %q", lines[0], keyName)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return 0, tlog.Hash{}, fmt.Errorf("checkpoint size %q is not a canonical decimal", lines[1])
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("checkpoint root %q: %v", lines[2], err)
	}
	return size, root, nil
}

// c2spTiles reads C2SP tlog-tiles from a folder: tlog's Tile.Path is "tile/8/L/N[.p/W]", and
// C2SP drops the height ("tile/L/N[.p/W]").
type c2spTiles struct{ dir string }

func (c2spTiles) Height() int { return 8 }

func (c c2spTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, t := range tiles {
		data, err := os.ReadFile(filepath.Join(c.dir, strings.Replace(t.Path(), "tile/8/", "tile/", 1)))
		if err != nil {
			return nil, err
		}
		out[i] = data
	}
	return out, nil
}

func (c2spTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func openCheckpoint(path string, verifier note.Verifier) (int64, tlog.Hash, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return 0, tlog.Hash{}, err
	}
	opened, err := note.Open(text, note.VerifierList(verifier))
	if err != nil {
		return 0, tlog.Hash{}, fmt.Errorf("%s: %v", path, err)
	}
	return parseCheckpoint(opened.Text, verifier.Name())
}

func tiles(dir, vkeyPath string) (string, error) {
	vkey, err := os.ReadFile(vkeyPath)
	if err != nil {
		return "", err
	}
	verifier, err := note.NewVerifier(strings.TrimSuffix(string(vkey), "\n"))
	if err != nil {
		return "", fmt.Errorf("verifier key: %v", err)
	}
	size, root, err := openCheckpoint(filepath.Join(dir, "checkpoint"), verifier)
	if err != nil {
		return "", err
	}
	reader := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, c2spTiles{dir})
	if got, err := tlog.TreeHash(size, reader); err != nil || got != root {
		return "", fmt.Errorf("the tiles do not give the signed root of %d entries: %v", size, err)
	}
	entries := int64(0)
	for bundle := int64(0); bundle*256 < size; bundle++ {
		width := size - bundle*256
		if width > 256 {
			width = 256
		}
		// A bundle has the name of the level-0 tile it hashes, under tile/entries/.
		name := tlog.Tile{H: 8, L: 0, N: bundle, W: int(width)}.Path()
		path := filepath.Join(dir, strings.Replace(name, "tile/8/0/", "tile/entries/", 1))
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		for len(data) > 0 {
			if len(data) < 2 {
				return "", fmt.Errorf("%s: not a sequence of length-prefixed entries", path)
			}
			length := int(data[0])<<8 | int(data[1])
			if len(data) < 2+length {
				return "", fmt.Errorf("%s: an entry runs past the end of the bundle", path)
			}
			entry := data[2 : 2+length]
			data = data[2+length:]
			stored, err := reader.ReadHashes([]int64{tlog.StoredHashIndex(0, entries)})
			if err != nil {
				return "", err
			}
			if tlog.RecordHash(entry) != stored[0] {
				return "", fmt.Errorf("entry %d in %s does not hash to its leaf in the tiles", entries, path)
			}
			proof, err := tlog.ProveRecord(size, entries, reader)
			if err != nil {
				return "", err
			}
			if err := tlog.CheckRecord(proof, size, root, entries, tlog.RecordHash(entry)); err != nil {
				return "", fmt.Errorf("entry %d: %v", entries, err)
			}
			entries++
		}
	}
	if entries != size {
		return "", fmt.Errorf("the bundles hold %d entries, the checkpoint covers %d", entries, size)
	}
	archived, err := filepath.Glob(filepath.Join(dir, "checkpoints", "*"))
	if err != nil {
		return "", err
	}
	for _, path := range archived {
		old, oldRoot, err := openCheckpoint(path, verifier)
		if err != nil {
			return "", err
		}
		if old < 1 || old > size {
			return "", fmt.Errorf("%s: size %d outside 1...%d", path, old, size)
		}
		proof, err := tlog.ProveTree(size, old, reader)
		if err != nil {
			return "", err
		}
		if err := tlog.CheckTree(proof, size, root, old, oldRoot); err != nil {
			return "", fmt.Errorf("%s is not consistent with the newest checkpoint: %v", path, err)
		}
	}
	return fmt.Sprintf("%d entries in tiles, %d archived checkpoints consistent with the newest", entries, len(archived)), nil
}
