package cli

import (
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// table is a text table: a header and rows of cells, columns separated by
// two spaces, the last column not padded.
type table struct {
	cols []tableCol
	rows [][]string
}

type tableCol struct {
	title string
	// give says when the column gives way to a terminal too narrow for the
	// table: 0 never; 1 first, down to min; 2 next, down to min; then every
	// column with give > 0 down to minShrunk.
	give int
	min  int
	// right aligns the column (numbers).
	right bool
}

// minShrunk is the narrowest a column that gives way gets.
const minShrunk = 8

const colSep = "  "

// add appends a row; cells are made printable, an empty cell shows "-".
func (t *table) add(cells ...string) {
	row := make([]string, len(cells))
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		row[i] = printable(c)
	}
	t.rows = append(t.rows, row)
}

// write prints the table. With width > 0 (a terminal), shrinking columns
// give way, widest first, and cells too long for their column are cut
// with "…"; lines still too wide are cut at width. With width 0 every cell
// is printed whole.
func (t *table) write(w io.Writer, width int) {
	widths := make([]int, len(t.cols))
	for i, c := range t.cols {
		widths[i] = utf8.RuneCountInString(c.title)
	}
	for _, row := range t.rows {
		for i, c := range row {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	if width > 0 {
		t.fit(widths, width)
	}
	var b strings.Builder
	line := func(cells []string) {
		b.Reset()
		for i, c := range cells {
			if i > 0 {
				b.WriteString(colSep)
			}
			c = cut(c, widths[i])
			pad := widths[i] - utf8.RuneCountInString(c)
			switch {
			case t.cols[i].right:
				b.WriteString(strings.Repeat(" ", pad))
				b.WriteString(c)
			case i < len(cells)-1:
				b.WriteString(c)
				b.WriteString(strings.Repeat(" ", pad))
			default:
				b.WriteString(c)
			}
		}
		s := b.String()
		if width > 0 {
			s = cut(s, width)
		}
		fmt.Fprintln(w, s)
	}
	titles := make([]string, len(t.cols))
	for i, c := range t.cols {
		titles[i] = c.title
	}
	line(titles)
	for _, row := range t.rows {
		line(row)
	}
}

// fit narrows the columns that give way, level by level and widest first
// within a level, until the table fits in width or none can shrink further.
func (t *table) fit(widths []int, width int) {
	total := len(colSep) * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	for level := 1; level <= 3 && total > width; level++ {
		floor := func(c tableCol) int {
			if level == 3 {
				return minShrunk
			}
			return max(c.min, minShrunk)
		}
		for total > width {
			widest := -1
			for i, c := range t.cols {
				if c.give > 0 && (c.give <= level) && widths[i] > floor(c) && (widest < 0 || widths[i] > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			total--
		}
	}
}

// cut shortens s to n characters, marking the cut with "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	rs := []rune(s)
	return string(rs[:n-1]) + "…"
}

// printable escapes what a terminal would act on rather than show: control
// characters, bidirectional overrides and invalid UTF-8 (a command line is
// whatever the process was given).
func printable(s string) string {
	clean := true
	for _, r := range s {
		if escaped(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case escaped(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case escaped(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

func escaped(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r)
}

// termWidth is the width of the terminal w writes to, or 0 when w is not a
// terminal (a file, a pipe): then output is never cut.
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 0
	}
	return int(ws.Col)
}
