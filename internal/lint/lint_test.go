package lint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// pureCores are the packages that must stay deterministic state machines
// (DESIGN.md, principle 1). Add each new protocol core here.
var pureCores = []string{"raft", "txn", "gossip", "eventual/merkle", "paxos", "verify/check"}

// forbiddenInCores maps an import path to the selectors that break
// determinism; an empty list forbids the whole import.
var forbiddenInCores = map[string][]string{
	"time":         {"Now", "Sleep", "After", "AfterFunc", "Tick", "NewTimer", "NewTicker", "Since", "Until"},
	"math/rand":    nil,
	"crypto/rand":  nil,
	"math/rand/v2": {"Int", "IntN", "Int64", "Int64N", "Int32", "Int32N", "Uint32", "Uint64", "Float64", "Float32", "Perm", "Shuffle", "N", "UintN", "Uint"},
}

func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found from %s: %v", dir, err)
	}
	return dir
}

// goPackageDirs returns every directory holding non-test Go files.
func goPackageDirs(t *testing.T, root string) []string {
	t.Helper()
	seen := map[string]bool{}
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			dir := filepath.Dir(path)
			if !seen[dir] {
				seen[dir] = true
				dirs = append(dirs, dir)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return dirs
}

func parseDir(t *testing.T, dir string) (*token.FileSet, []*ast.File) {
	t.Helper()
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return fset, files
}

func TestEveryPackageHasDocGo(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range goPackageDirs(t, root) {
		rel, _ := filepath.Rel(root, dir)
		if strings.HasPrefix(rel, "cmd") {
			continue // commands document themselves in main.go
		}
		if _, err := os.Stat(filepath.Join(dir, "doc.go")); err != nil {
			t.Errorf("%s has no doc.go: a package's doc.go is its design note", rel)
		}
	}
}

func TestExportedNamesHaveDocComments(t *testing.T) {
	root := repoRoot(t)
	for _, dir := range goPackageDirs(t, root) {
		fset, files := parseDir(t, dir)
		for _, f := range files {
			for _, decl := range f.Decls {
				for _, name := range undocumented(decl) {
					t.Errorf("%s: exported %s has no doc comment", fset.Position(decl.Pos()), name)
				}
			}
		}
	}
}

// undocumented lists exported names declared by decl without a doc comment.
// Methods of unexported types and names inside a documented group are fine.
func undocumented(decl ast.Decl) []string {
	var out []string
	switch d := decl.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() || d.Doc != nil {
			return nil
		}
		if d.Recv != nil && !receiverExported(d.Recv) {
			return nil
		}
		if d.Recv != nil && isWellKnownMethod(d.Name.Name) {
			return nil
		}
		out = append(out, d.Name.Name)
	case *ast.GenDecl:
		if d.Doc != nil && d.Lparen.IsValid() {
			return nil // a documented group documents its members
		}
		for _, spec := range d.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if s.Name.IsExported() && d.Doc == nil && s.Doc == nil {
					out = append(out, s.Name.Name)
				}
			case *ast.ValueSpec:
				for _, n := range s.Names {
					if n.IsExported() && d.Doc == nil && s.Doc == nil && s.Comment == nil {
						out = append(out, n.Name)
					}
				}
			}
		}
	}
	return out
}

// isWellKnownMethod names methods whose meaning an interface already fixes.
func isWellKnownMethod(name string) bool {
	switch name {
	case "String", "Error", "Unwrap", "Is", "As", "Len", "Less", "Swap", "Push", "Pop", "Format", "GoString",
		"MarshalBinary", "UnmarshalBinary", "MarshalText", "UnmarshalText", "MarshalJSON", "UnmarshalJSON":
		return true
	}
	return false
}

func receiverExported(recv *ast.FieldList) bool {
	if len(recv.List) == 0 {
		return false
	}
	typ := recv.List[0].Type
	for {
		switch x := typ.(type) {
		case *ast.StarExpr:
			typ = x.X
		case *ast.IndexExpr:
			typ = x.X
		case *ast.IndexListExpr:
			typ = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return true
		}
	}
}

func TestPureCoresStayDeterministic(t *testing.T) {
	root := repoRoot(t)
	for _, core := range pureCores {
		coreDir := filepath.Join(root, core)
		if _, err := os.Stat(coreDir); err != nil {
			continue // not written yet
		}
		for _, dir := range goPackageDirs(t, coreDir) {
			fset, files := parseDir(t, dir)
			for _, f := range files {
				checkDeterministic(t, fset, f)
			}
		}
	}
}

func checkDeterministic(t *testing.T, fset *token.FileSet, f *ast.File) {
	t.Helper()
	local := map[string]string{} // local import name -> path
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		sels, watched := forbiddenInCores[path]
		if !watched {
			continue
		}
		if sels == nil {
			t.Errorf("%s: a pure core imports %s", fset.Position(imp.Pos()), path)
			continue
		}
		name := filepath.Base(path)
		if path == "math/rand/v2" {
			name = "rand"
		}
		if imp.Name != nil {
			name = imp.Name.Name
		}
		local[name] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch x := n.(type) {
		case *ast.GoStmt:
			t.Errorf("%s: a pure core starts a goroutine", fset.Position(x.Pos()))
		case *ast.SelectorExpr:
			id, ok := x.X.(*ast.Ident)
			if !ok {
				return true
			}
			path, ok := local[id.Name]
			if !ok {
				return true
			}
			for _, s := range forbiddenInCores[path] {
				if x.Sel.Name == s {
					t.Errorf("%s: a pure core calls %s.%s", fset.Position(x.Pos()), path, s)
				}
			}
		}
		return true
	})
}
