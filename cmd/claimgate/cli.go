package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// stdin is the standard input a FILE of "-" reads; tests replace it.
var stdin io.Reader = os.Stdin

// command describes one subcommand for its --help.
type command struct {
	name     string // e.g. "validate"
	synopsis string // e.g. "claimgate validate [flags] FILE..."
	about    string // what it does, one paragraph
	exits    string // exit statuses, one per line
}

// flags returns the subcommand's flag set. Parse errors go to stderr; the
// help text (synopsis, about, flags, exit statuses) is written by help.
func (c *command) flags(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // parse reports the error; help prints the rest
	return fs
}

// help prints the subcommand's help to w.
func (c *command) help(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", c.synopsis, strings.TrimSpace(c.about))
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nExit status:\n%s\n", strings.TrimRight(c.exits, "\n"))
}

// errHelpShown tells the caller that --help was answered: exit 0.
var errHelpShown = errors.New("help shown")

// parse parses args, letting flags come before, between or after the
// operands (claimgate validate FILE --json). "-" is an operand (standard
// input); "--" ends the flags. -h/--help prints help to stdout and returns
// errHelpShown; any other parse problem is a usage error (exit 2).
func (c *command) parse(fs *flag.FlagSet, args []string, stdout io.Writer) ([]string, error) {
	var operands []string
	rest := args
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				c.help(stdout, fs)
				return nil, errHelpShown
			}
			return nil, &exitError{code: 2, err: fmt.Errorf("%v (see claimgate %s --help)", err, c.name)}
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		// fs.Parse stopped at an operand, or after "--" (then the rest are
		// all operands).
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			operands = append(operands, rest...)
			break
		}
		operands = append(operands, rest[0])
		rest = rest[1:]
	}
	return operands, nil
}

// openInput opens a named input once; "-" is standard input. The name it
// returns is the one findings use.
func openInput(name string) (io.ReadCloser, string, error) {
	if name == "-" {
		return io.NopCloser(stdin), "(stdin)", nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, name, err
	}
	return f, name, nil
}

// outWriter buffers a command's standard output and remembers the first
// write error, so a full disk or a closed pipe ends in exit status 2
// rather than a silent 0.
type outWriter struct {
	w   *bufio.Writer
	err error
}

func newOutWriter(w io.Writer) *outWriter {
	return &outWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

func (o *outWriter) Write(p []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	n, err := o.w.Write(p)
	if err != nil {
		o.err = err
	}
	return n, err
}

// Flush writes what is buffered and returns the first error seen.
func (o *outWriter) Flush() error {
	if o.err == nil {
		o.err = o.w.Flush()
	}
	return o.err
}
