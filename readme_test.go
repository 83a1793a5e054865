// The README's checks: every command in README.md is one the project has
// and that a test or .ci/run exercises, its example outputs are what the
// commands print, its field table is the generated one, its links lead
// somewhere and its list of build targets is the Magefile's.
//
//	go test . -run Readme
package readme_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/activityaudit/activityaudit/collector/cli"
)

// coveredElsewhere are the README commands that no check here can run or
// look up (there is no Docker daemon on the project's machines, and the
// curl lines need a running collector or devserver), each with the test
// that covers what it does: "<package dir> <test function>". The test
// fails when one of these is no longer in the README, or its test is gone.
var coveredElsewhere = map[string]string{
	// Loads docker-compose.yml with the Compose specification's own loader
	// (compose-go) and checks the services, the collector's privileges, the
	// start order and that every mounted file exists.
	"docker compose up -d": "deploy/compose TestCompose",
	// Runs a command while `collector run` captures into its embedded store
	// and finds its record with `collector query`.
	"curl -s http://127.0.0.1:9/": "collector/agent TestCommandIsQueryable",
	// Asks the devserver for resources/groups over a time window and checks
	// the counts.
	"curl -s http://127.0.0.1:3300/api/plugins/activityaudit-app/resources/groups?from=now-1h&to=now": "grafana-app/pkg/devserver TestDevserverPassesResourcesToTheInstance",
}

// kubectlApplyCoveredBy decodes every manifest strictly with client-go's
// scheme: what `kubectl apply -f` lines in the README may name.
const kubectlApplyCoveredBy = "deploy/kubernetes TestManifests"

// inlinePrefixes start the inline code spans that are commands (others,
// like `kubectl exec` in a sentence, name things).
var inlinePrefixes = []string{"go ", "sudo ", "npm ", "collector ", "docker ", "curl ", "bash "}

// command is one simple command of the README.
type command struct {
	line  int    // README line it starts on
	text  string // as written
	words []string
	out   []string // for a `$ ` line of a plain block: the lines it printed
}

func (c command) String() string { return fmt.Sprintf("README.md:%d: %s", c.line, c.text) }

// readmeLines reads README.md.
func readmeLines(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

var fence = regexp.MustCompile("^```([a-z]*)\\s*$")

// block is a fenced code block.
type block struct {
	lang  string
	start int // line number of its first content line
	lines []string
}

// parseReadme splits the README into its fenced blocks and its prose
// paragraphs (each a start line and the text of its lines joined by
// spaces).
func parseReadme(lines []string) (blocks []block, paras []block) {
	var cur *block
	var para *block
	for i, l := range lines {
		n := i + 1
		if cur != nil {
			if strings.TrimSpace(l) == "```" {
				blocks = append(blocks, *cur)
				cur = nil
				continue
			}
			cur.lines = append(cur.lines, l)
			continue
		}
		if m := fence.FindStringSubmatch(l); m != nil {
			if para != nil {
				paras = append(paras, *para)
				para = nil
			}
			cur = &block{lang: m[1], start: n + 1}
			continue
		}
		if strings.TrimSpace(l) == "" {
			if para != nil {
				paras = append(paras, *para)
				para = nil
			}
			continue
		}
		if para == nil {
			para = &block{start: n}
		}
		para.lines = append(para.lines, l)
	}
	if para != nil {
		paras = append(paras, *para)
	}
	return blocks, paras
}

var inlineCode = regexp.MustCompile("`([^`]+)`")

// readmeCommands extracts every command of the README: the lines of its
// ```sh blocks (continuations joined, comments dropped, && ; | split), the
// `$ ` lines of its plain blocks, and the inline code spans that are
// commands.
func readmeCommands(t *testing.T) []command {
	t.Helper()
	blocks, paras := parseReadme(readmeLines(t))
	var cmds []command
	add := func(line int, text string, out []string) {
		words, err := shellSplit(text)
		if err != nil {
			t.Errorf("README.md:%d: %s: %v", line, text, err)
			return
		}
		for _, simple := range words {
			if len(simple) > 0 {
				cmds = append(cmds, command{line: line, text: text, words: simple, out: out})
			}
		}
	}
	for _, b := range blocks {
		switch b.lang {
		case "sh", "bash", "shell":
			for i := 0; i < len(b.lines); i++ {
				start, text := b.start+i, b.lines[i]
				for strings.HasSuffix(text, "\\") && i+1 < len(b.lines) {
					i++
					text = strings.TrimSuffix(text, "\\") + " " + b.lines[i]
				}
				add(start, text, nil)
			}
		case "":
			for i := 0; i < len(b.lines); i++ {
				if !strings.HasPrefix(b.lines[i], "$ ") {
					continue
				}
				start, text := b.start+i, strings.TrimPrefix(b.lines[i], "$ ")
				var out []string
				for i+1 < len(b.lines) && !strings.HasPrefix(b.lines[i+1], "$ ") {
					i++
					out = append(out, b.lines[i])
				}
				add(start, text, out)
			}
		}
	}
	for _, p := range paras {
		text := strings.Join(p.lines, " ")
		for _, m := range inlineCode.FindAllStringSubmatchIndex(text, -1) {
			span := text[m[2]:m[3]]
			// The line the span starts on.
			line, end := p.start, len(p.lines[0])
			for i := 1; i < len(p.lines) && m[0] > end; i++ {
				line, end = line+1, end+1+len(p.lines[i])
			}
			for _, prefix := range inlinePrefixes {
				if strings.HasPrefix(span, prefix) {
					add(line, span, nil)
					break
				}
			}
		}
	}
	return cmds
}

// shellSplit splits a command line into simple commands of words as sh
// would for what a README holds: single and double quotes, backslash
// escapes, comments, and the operators && || | ; & between commands.
func shellSplit(s string) ([][]string, error) {
	var cmds [][]string
	var words []string
	var word strings.Builder
	inWord := false
	endWord := func() {
		if inWord {
			words = append(words, word.String())
			word.Reset()
			inWord = false
		}
	}
	endCmd := func() {
		endWord()
		cmds = append(cmds, words)
		words = nil
	}
	r := []rune(s)
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds, nil
		case c == '\'':
			j := i + 1
			for j < len(r) && r[j] != '\'' {
				j++
			}
			if j == len(r) {
				return nil, fmt.Errorf("unterminated single quote")
			}
			word.WriteString(string(r[i+1 : j]))
			inWord, i = true, j
		case c == '"':
			j := i + 1
			for ; j < len(r) && r[j] != '"'; j++ {
				if r[j] == '\\' && j+1 < len(r) && strings.ContainsRune("\"\\$`", r[j+1]) {
					j++
				}
				word.WriteRune(r[j])
			}
			if j == len(r) {
				return nil, fmt.Errorf("unterminated double quote")
			}
			inWord, i = true, j
		case c == '\\':
			if i+1 < len(r) {
				i++
				word.WriteRune(r[i])
				inWord = true
			}
		case c == '&' || c == '|' || c == ';':
			if i+1 < len(r) && (c == '&' || c == '|') && r[i+1] == c {
				i++
			}
			endCmd()
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	endCmd()
	return cmds, nil
}

// check tells why a command is not covered, or nil when it is.
func check(t *testing.T, c command) error {
	words := c.words
	// Environment assignments and sudo change nothing checked here.
	for len(words) > 0 && (words[0] == "sudo" || regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(words[0])) {
		words = words[1:]
	}
	if len(words) > 0 && words[0] == "$(which go)" {
		words = append([]string{"go"}, words[1:]...)
	}
	if len(words) == 0 {
		return fmt.Errorf("no command")
	}
	if test, ok := coveredElsewhere[strings.Join(words, " ")]; ok {
		return testExists(test)
	}
	switch words[0] {
	case "collector":
		return checkCollector(t, words[1:])
	case "go":
		if len(words) < 2 {
			return fmt.Errorf("go alone")
		}
		switch words[1] {
		case "run":
			pkg, args := firstPositional(words[2:], nil)
			if pkg == "./collector" {
				return checkCollector(t, args)
			}
			return checkGoMain(pkg, args)
		case "tool":
			if len(words) > 2 && words[2] == "mage" {
				return checkMage(words[3:])
			}
		case "test":
			return checkGoTest(words[2:])
		case "build":
			return checkGoBuild(words[2:])
		}
		return fmt.Errorf("go %s: not a go command the README check knows", words[1])
	case "npm":
		return checkNpm(words[1:])
	case "kubectl":
		return checkKubectl(words[1:])
	}
	return fmt.Errorf("not covered: neither a command the check understands nor in coveredElsewhere (readme_test.go) with the test that covers it")
}

// firstPositional is the first argument that is not a flag (or a flag's
// value, for the flags that take one), and what follows it.
func firstPositional(args []string, valueFlags map[string]bool) (string, []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			return a, args[i+1:]
		}
		if name := flagName(a); valueFlags[name] && !strings.Contains(a, "=") {
			i++
		}
	}
	return "", nil
}

// flagName is -name, --name or --name=value's name.
func flagName(a string) string {
	name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
	return name
}

// checkFlags checks every flag among args against the known names.
func checkFlags(what string, args []string, known map[string]bool) error {
	for _, a := range args {
		if a == "-" || a == "--" || !strings.HasPrefix(a, "-") {
			continue
		}
		if !known[flagName(a)] {
			return fmt.Errorf("%s has no flag %s", what, a)
		}
	}
	return nil
}

// The collector's command line, as cli.Main describes it.
var (
	cliOnce     sync.Once
	cliCommands map[string]bool
	cliFlags    = map[string]map[string]bool{}
	cliMu       sync.Mutex
	helpFlag    = regexp.MustCompile(`(?m)^  -([a-z0-9][a-z0-9-]*)`)
	helpCommand = regexp.MustCompile(`(?m)^  ([a-z]+)\s{2,}`)
)

// checkCollector checks `collector [SUBCOMMAND] [ARGS]`: the subcommand and
// each flag exist in the collector's command line, asked in-process.
func checkCollector(t *testing.T, args []string) error {
	cliOnce.Do(func() {
		var out bytes.Buffer
		cli.Main(context.Background(), []string{"help"}, cli.IO{Out: &out, Err: &out})
		cliCommands = map[string]bool{}
		_, cmds, _ := strings.Cut(out.String(), "Commands:")
		for _, m := range helpCommand.FindAllStringSubmatch(cmds, -1) {
			cliCommands[m[1]] = true
		}
	})
	if len(cliCommands) == 0 {
		t.Fatal("`collector help` lists no commands")
	}
	sub := "run" // `collector` and `collector --flags` mean `collector run`
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		sub, args = args[0], args[1:]
	}
	if !cliCommands[sub] {
		return fmt.Errorf("the collector has no command %q", sub)
	}
	cliMu.Lock()
	flags, ok := cliFlags[sub]
	if !ok {
		var out bytes.Buffer
		if code := cli.Main(context.Background(), []string{sub, "-h"}, cli.IO{Out: &out, Err: &out}); code != cli.ExitOK {
			cliMu.Unlock()
			return fmt.Errorf("collector %s -h: exit %d: %s", sub, code, out.String())
		}
		flags = map[string]bool{}
		for _, m := range helpFlag.FindAllStringSubmatch(out.String(), -1) {
			flags[m[1]] = true
		}
		cliFlags[sub] = flags
	}
	cliMu.Unlock()
	return checkFlags("collector "+sub, args, flags)
}

// checkGoMain checks `go run ./PKG ARGS` for a main package other than the
// collector: the package exists and every flag is defined in its source
// (flag.String("name", ...), fs.StringVar(&v, "name", ...) and the like).
func checkGoMain(pkg string, args []string) error {
	if !strings.HasPrefix(pkg, "./") {
		return fmt.Errorf("go run %q: want a ./path package", pkg)
	}
	dir := filepath.FromSlash(strings.TrimPrefix(pkg, "./"))
	files, err := goFiles(dir, false)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	fset := token.NewFileSet()
	isMain := false
	for _, f := range files {
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		isMain = isMain || af.Name.Name == "main"
		ast.Inspect(af, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || !flagDefiners[sel.Sel.Name] {
				return true
			}
			arg := 0
			if strings.HasSuffix(sel.Sel.Name, "Var") {
				arg = 1
			}
			if arg < len(call.Args) {
				if lit, ok := call.Args[arg].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if name, err := strconv.Unquote(lit.Value); err == nil {
						known[name] = true
					}
				}
			}
			return true
		})
	}
	if !isMain {
		return fmt.Errorf("%s is not a main package", pkg)
	}
	return checkFlags("go run "+pkg, args, known)
}

// flagDefiners are the flag package's methods that define a flag.
var flagDefiners = map[string]bool{}

func init() {
	for _, t := range []string{"String", "Bool", "Int", "Int64", "Uint", "Uint64", "Float64", "Duration", "Text"} {
		flagDefiners[t] = true
		flagDefiners[t+"Var"] = true
	}
	flagDefiners["Var"] = true
	flagDefiners["Func"] = true
	flagDefiners["BoolFunc"] = true
}

// goFiles lists a directory's Go files (test files too, or not).
func goFiles(dir string, tests bool) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && strings.HasSuffix(n, ".go") && (tests || !strings.HasSuffix(n, "_test.go")) {
			files = append(files, filepath.Join(dir, n))
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no Go package", dir)
	}
	return files, nil
}

// mageFlags are mage's own flags; the value says whether it takes a value.
var mageFlags = map[string]bool{
	"l": false, "v": false, "h": false, "f": false, "debug": false, "keep": false, "init": false,
	"clean": false, "version": false, "d": true, "t": true, "w": true, "gocmd": true, "compile": true,
}

// mageTargets are the Magefile's targets, lower-cased as mage matches them.
func mageTargets() (map[string]string, error) {
	af, err := parser.ParseFile(token.NewFileSet(), "Magefile.go", nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	targets := map[string]string{}
	for _, d := range af.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && fd.Name.IsExported() {
			targets[strings.ToLower(fd.Name.Name)] = fd.Name.Name
		}
	}
	return targets, nil
}

// checkMage checks `go tool mage [FLAGS] [TARGETS]`.
func checkMage(args []string) error {
	targets, err := mageTargets()
	if err != nil {
		return err
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			takesValue, ok := mageFlags[flagName(a)]
			if !ok {
				return fmt.Errorf("mage has no flag %s", a)
			}
			if takesValue && !strings.Contains(a, "=") {
				i++
			}
			continue
		}
		if _, ok := targets[strings.ToLower(a)]; !ok {
			return fmt.Errorf("Magefile.go has no target %q", a)
		}
	}
	return nil
}

// goTestValueFlags are the go test flags that take a value.
var goTestValueFlags = map[string]bool{
	"run": true, "skip": true, "bench": true, "benchtime": true, "count": true, "cpu": true, "timeout": true,
	"fuzz": true, "fuzztime": true, "fuzzminimizetime": true, "tags": true, "p": true, "parallel": true,
	"coverprofile": true, "covermode": true, "coverpkg": true, "o": true, "exec": true, "list": true, "shuffle": true,
}

// checkGoTest checks `go test [FLAGS] PACKAGES`: each package exists and a
// -run pattern matches one of their tests.
func checkGoTest(args []string) error {
	pkgs, values, err := goArgs(args, goTestValueFlags)
	if err != nil {
		return err
	}
	if len(pkgs) == 0 {
		return fmt.Errorf("no package")
	}
	var dirs []string
	for _, p := range pkgs {
		d, err := packageDirs(p)
		if err != nil {
			return err
		}
		dirs = append(dirs, d...)
	}
	run, ok := values["run"]
	if !ok {
		return nil
	}
	re, err := regexp.Compile(run)
	if err != nil {
		return fmt.Errorf("-run %q: %v", run, err)
	}
	tests, err := testFuncs(dirs)
	if err != nil {
		return err
	}
	for _, name := range tests {
		if re.MatchString(name) {
			return nil
		}
	}
	if run == "^$" {
		return nil
	}
	return fmt.Errorf("-run %q matches no test in %s", run, strings.Join(pkgs, " "))
}

// checkGoBuild checks `go build [FLAGS] PACKAGES`.
func checkGoBuild(args []string) error {
	pkgs, _, err := goArgs(args, map[string]bool{"o": true, "tags": true, "ldflags": true, "gcflags": true, "buildmode": true})
	if err != nil {
		return err
	}
	for _, p := range pkgs {
		if _, err := packageDirs(p); err != nil {
			return err
		}
	}
	return nil
}

// goArgs splits a go command's arguments into packages and flag values.
func goArgs(args []string, valueFlags map[string]bool) (pkgs []string, values map[string]string, err error) {
	values = map[string]string{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			if a != "." && !strings.HasPrefix(a, "./") {
				return nil, nil, fmt.Errorf("%q: want a flag or a ./path package", a)
			}
			pkgs = append(pkgs, a)
			continue
		}
		name := flagName(a)
		if _, v, ok := strings.Cut(a, "="); ok {
			values[name] = v
		} else if valueFlags[name] {
			if i+1 == len(args) {
				return nil, nil, fmt.Errorf("%s without a value", a)
			}
			i++
			values[name] = args[i]
		}
	}
	return pkgs, values, nil
}

// packageDirs are the directories of a ./path or ./path/... pattern that
// hold Go files.
func packageDirs(pattern string) ([]string, error) {
	root, recursive := strings.CutSuffix(pattern, "/...")
	root = filepath.FromSlash(strings.TrimPrefix(root, "./"))
	if root == "" {
		root = "."
	}
	if !recursive {
		if _, err := goFiles(root, true); err != nil {
			return nil, fmt.Errorf("package %s: %w", pattern, err)
		}
		return []string{root}, nil
	}
	var dirs []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && p != root) {
			return filepath.SkipDir
		}
		if d.IsDir() {
			if _, err := goFiles(p, true); err == nil {
				dirs = append(dirs, p)
			}
		}
		return nil
	})
	if err == nil && len(dirs) == 0 {
		err = fmt.Errorf("package %s: no Go package under %s", pattern, root)
	}
	return dirs, err
}

// testFuncs lists the Test functions of the packages in dirs.
func testFuncs(dirs []string) ([]string, error) {
	var names []string
	for _, dir := range dirs {
		files, err := goFiles(dir, true)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !strings.HasSuffix(f, "_test.go") {
				continue
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.SkipObjectResolution)
			if err != nil {
				return nil, err
			}
			for _, d := range af.Decls {
				if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && strings.HasPrefix(fd.Name.Name, "Test") {
					names = append(names, fd.Name.Name)
				}
			}
		}
	}
	return names, nil
}

// testExists checks a "<package dir> <test function>" reference.
func testExists(ref string) error {
	dir, name, ok := strings.Cut(ref, " ")
	if !ok {
		return fmt.Errorf("bad test reference %q", ref)
	}
	names, err := testFuncs([]string{filepath.FromSlash(dir)})
	if err != nil {
		return fmt.Errorf("covering test %s: %w", ref, err)
	}
	if !slices.Contains(names, name) {
		return fmt.Errorf("covering test %s: no such test", ref)
	}
	return nil
}

// checkNpm checks `npm [--prefix DIR] ci|install|test|run SCRIPT`.
func checkNpm(args []string) error {
	dir := "."
	var rest []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "--prefix" && i+1 < len(args):
			dir, i = args[i+1], i+1
		case strings.HasPrefix(a, "--prefix="):
			dir = strings.TrimPrefix(a, "--prefix=")
		case strings.HasPrefix(a, "-"):
		default:
			rest = append(rest, a)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return err
	}
	var pkg struct {
		Scripts map[string]string `json:"scripts"`
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		return err
	}
	if len(rest) == 0 {
		return fmt.Errorf("npm without a command")
	}
	script := ""
	switch rest[0] {
	case "ci":
		_, err := os.Stat(filepath.Join(dir, "package-lock.json"))
		return err
	case "install":
		return nil
	case "test":
		script = "test"
	case "run", "run-script":
		if len(rest) < 2 {
			return fmt.Errorf("npm run without a script")
		}
		script = rest[1]
	default:
		return fmt.Errorf("npm %s: not a command the README check knows", rest[0])
	}
	if _, ok := pkg.Scripts[script]; !ok {
		return fmt.Errorf("%s has no script %q", filepath.Join(dir, "package.json"), script)
	}
	return nil
}

// checkKubectl checks `kubectl apply -f FILE...`: each file is one of the
// manifests TestManifests decodes, and a Kubernetes object (not the API
// server's audit policy or webhook kubeconfig).
func checkKubectl(args []string) error {
	if len(args) == 0 || args[0] != "apply" {
		return fmt.Errorf("kubectl: only `kubectl apply -f` is checked")
	}
	if err := testExists(kubectlApplyCoveredBy); err != nil {
		return err
	}
	n := 0
	for i := 1; i < len(args); i++ {
		if args[i] != "-f" || i+1 == len(args) {
			return fmt.Errorf("kubectl apply: unexpected %q", args[i])
		}
		i++
		f := filepath.FromSlash(args[i])
		if filepath.Dir(f) != filepath.Join("deploy", "kubernetes") {
			return fmt.Errorf("%s is not under deploy/kubernetes (what %s decodes)", args[i], kubectlApplyCoveredBy)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		for _, kind := range regexp.MustCompile(`(?m)^kind:\s*(\S+)`).FindAllSubmatch(b, -1) {
			if k := string(kind[1]); k == "Policy" || k == "Config" {
				return fmt.Errorf("%s holds a %s, which is the API server's, not an object to apply", args[i], k)
			}
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("kubectl apply without -f")
	}
	return nil
}

// TestReadmeCommands: every command in the README is covered.
func TestReadmeCommands(t *testing.T) {
	cmds := readmeCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands in README.md: is the extraction broken?", len(cmds))
	}
	used := map[string]bool{}
	for _, c := range cmds {
		if err := check(t, c); err != nil {
			t.Errorf("%s\n\t%v", c, err)
		}
		used[strings.Join(c.words, " ")] = true
	}
	for cmd := range coveredElsewhere {
		found := false
		for u := range used {
			if strings.HasSuffix(u, cmd) {
				found = true
			}
		}
		if !found {
			t.Errorf("coveredElsewhere lists %q, which is no longer in README.md: remove it", cmd)
		}
	}
}

// TestReadmeOutputs: the example outputs of `collector logql` in the
// README are what it prints.
func TestReadmeOutputs(t *testing.T) {
	n := 0
	for _, c := range readmeCommands(t) {
		if c.out == nil || len(c.words) < 4 || strings.Join(c.words[:4], " ") != "go run ./collector logql" {
			continue
		}
		n++
		var out bytes.Buffer
		cli.Main(context.Background(), c.words[3:], cli.IO{Out: &out, Err: &out})
		got := strings.TrimRight(out.String(), "\n")
		want := strings.TrimRight(strings.Join(c.out, "\n"), "\n")
		if got != want {
			t.Errorf("%s prints\n%s\nthe README shows\n%s", c, got, want)
		}
	}
	if n == 0 {
		t.Error("no `$ go run ./collector logql` example found")
	}
}

// TestReadmeQuickstart: the quick start stays two commands, these two.
func TestReadmeQuickstart(t *testing.T) {
	lines := readmeLines(t)
	start := slices.Index(lines, "## Quick start")
	if start < 0 {
		t.Fatal("no Quick start section")
	}
	blocks, _ := parseReadme(lines[start:])
	for _, b := range blocks {
		if b.lang != "sh" {
			continue
		}
		var got []string
		for _, l := range b.lines {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				got = append(got, l)
			}
		}
		if want := []string{"sudo go run ./collector", "go tool mage test"}; !slices.Equal(got, want) {
			t.Errorf("the quick start runs %q, want %q", got, want)
		}
		return
	}
	t.Error("the Quick start section has no sh block")
}

// tableLines are the lines of the first markdown table in text.
func tableLines(text string) []string {
	var table []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "|") {
			table = append(table, l)
		} else if len(table) > 0 {
			break
		}
	}
	return table
}

// TestReadmeFieldTable: the README's field table is docs/fields.md's,
// generated from the registry.
func TestReadmeFieldTable(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("docs", "fields.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := strings.Join(readmeLines(t), "\n")
	_, rest, ok1 := strings.Cut(readme, "<!-- fields:begin")
	marked, _, ok2 := strings.Cut(rest, "<!-- fields:end -->")
	if !ok1 || !ok2 {
		t.Fatal("README.md has no <!-- fields:begin ... --> ... <!-- fields:end --> section")
	}
	want, got := tableLines(string(doc)), tableLines(marked)
	if len(want) < 3 {
		t.Fatal("docs/fields.md has no table")
	}
	if !slices.Equal(got, want) {
		t.Errorf("README.md's field table is not docs/fields.md's (%d and %d lines): run `go tool mage generate`", len(got), len(want))
	}
}

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading = regexp.MustCompile(`^#{1,6} (.+)$`)
)

// slug is GitHub's anchor for a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_':
			b.WriteRune(r)
		case r == ' ':
			b.WriteRune('-')
		}
	}
	return b.String()
}

// TestReadmeLinks: the README's relative links and images point at files
// of the tree, and its #anchors at its headings.
func TestReadmeLinks(t *testing.T) {
	lines := readmeLines(t)
	anchors := map[string]bool{}
	for _, l := range lines {
		if m := heading.FindStringSubmatch(l); m != nil {
			anchors[slug(m[1])] = true
		}
	}
	n := 0
	for i, l := range lines {
		for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
			target := m[1]
			switch {
			case strings.Contains(target, "://"):
			case strings.HasPrefix(target, "#"):
				if !anchors[target[1:]] {
					t.Errorf("README.md:%d: no heading for %s", i+1, target)
				}
			default:
				path, _, _ := strings.Cut(target, "#")
				if _, err := os.Stat(filepath.FromSlash(path)); err != nil {
					t.Errorf("README.md:%d: %v", i+1, err)
				}
			}
			n++
		}
	}
	if n == 0 {
		t.Error("no links found")
	}
}

// TestReadmeMageTargets: the Development section's table of targets is
// the Magefile's, no more, no less.
func TestReadmeMageTargets(t *testing.T) {
	lines := readmeLines(t)
	start := slices.Index(lines, "## Development")
	if start < 0 {
		t.Fatal("no Development section")
	}
	var listed []string
	for _, l := range tableLines(strings.Join(lines[start:], "\n")) {
		cell := strings.TrimSpace(strings.Split(l, "|")[1])
		if name, ok := strings.CutPrefix(cell, "`"); ok {
			name, _, _ = strings.Cut(name, "`")
			listed = append(listed, strings.ToLower(name))
		}
	}
	targets, err := mageTargets()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for lower := range targets {
		want = append(want, lower)
	}
	sort.Strings(listed)
	sort.Strings(want)
	if !slices.Equal(listed, want) {
		t.Errorf("the Development section lists the targets %v; Magefile.go has %v", listed, want)
	}
}

// TestShellSplit: the splitter reads commands as sh does.
func TestShellSplit(t *testing.T) {
	tests := []struct {
		in   string
		want [][]string
	}{
		{`go run ./collector query 'comm="curl"' --since 10m  # what was captured`,
			[][]string{{"go", "run", "./collector", "query", `comm="curl"`, "--since", "10m"}}},
		{`npm --prefix a ci && npm --prefix a run build`, [][]string{{"npm", "--prefix", "a", "ci"}, {"npm", "--prefix", "a", "run", "build"}}},
		{`sudo "$(which go)" run ./collector`, [][]string{{"sudo", "$(which go)", "run", "./collector"}}},
		{`echo "a \"b\" \$c" x\ y; true | false`, [][]string{{"echo", `a "b" $c`, "x y"}, {"true"}, {"false"}}},
		{`# only a comment`, [][]string{nil}},
	}
	for _, tt := range tests {
		got, err := shellSplit(tt.in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("shellSplit(%s) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := shellSplit(`echo 'open`); err == nil {
		t.Error("unterminated quote: no error")
	}
}

// TestCheckRefuses: what the check must not let through.
func TestCheckRefuses(t *testing.T) {
	for _, line := range []string{
		`go run ./collector frobnicate`,
		`go run ./collector query --no-such-flag`,
		`go run ./collector store --link`,
		`go run ./grafana-app/cmd/devserver --no-such-flag x`,
		`go tool mage nosuchtarget`,
		`go tool mage -z`,
		`go test ./no/such/dir`,
		`go test ./collector/cli -run ^TestNoSuchTest$`,
		`npm --prefix grafana-app run no-such-script`,
		`kubectl apply -f deploy/kubernetes/audit-policy.yaml`,
		`docker compose down`,
		`curl -s http://example.com/`,
		`make all`,
	} {
		words, err := shellSplit(line)
		if err != nil {
			t.Fatal(err)
		}
		if err := check(t, command{text: line, words: words[0]}); err == nil {
			t.Errorf("%s: passed the check", line)
		}
	}
}
