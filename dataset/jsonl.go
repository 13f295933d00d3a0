// Package dataset reads and writes toppass's JSONL files: problems,
// candidates and labels, plain or gzip-compressed. A malformed line is an
// error that names file:line; readers report it and go on, so one bad line
// loses nothing else.
package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
)

// LineError is a problem with one line of an input file.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string {
	if e.Line == 0 { // the whole file or folder
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
	return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
}
func (e *LineError) Unwrap() error { return e.Err }

// maxLine bounds one JSONL record (a problem with large tests can be a few
// MB; HumanEval+ lines reach ~1 MB).
const maxLine = 64 << 20

// ReadLines calls fn for every non-blank line of a JSONL file (".gz" is
// decompressed). An error from fn is wrapped with file:line and passed to
// onErr; reading continues unless onErr returns an error. I/O errors stop.
func ReadLines(path string, fn func(line int, raw []byte) error, onErr func(*LineError) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	br := bufio.NewReaderSize(r, 1<<20)
	for n := 1; ; n++ {
		raw, tooLong, err := readLine(br)
		if tooLong {
			if herr := onErr(&LineError{File: path, Line: n, Err: errors.New("line longer than 64 MiB")}); herr != nil {
				return herr
			}
		} else if len(bytes.TrimSpace(raw)) > 0 {
			if ferr := fn(n, raw); ferr != nil {
				if herr := onErr(&LineError{File: path, Line: n, Err: ferr}); herr != nil {
					return herr
				}
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
}

func readLine(br *bufio.Reader) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			buf = append(buf, chunk...)
			if len(buf) > maxLine {
				tooLong, buf = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimRight(buf, "\r\n"), tooLong, err
	}
}

// ErrInput reports that some input lines were bad (each was logged).
var ErrInput = errors.New("some input lines were invalid")

// ErrorLog is the usual onErr of the readers: it logs each bad line with
// file:line, counts them, keeps the first 100, and lets reading go on.
type ErrorLog struct {
	N     int
	First []*LineError
}

// Add records e; it never stops the reader.
func (l *ErrorLog) Add(e *LineError) error {
	l.N++
	if len(l.First) < 100 {
		l.First = append(l.First, e)
	}
	slog.Error("bad input", "where", fmt.Sprintf("%s:%d", e.File, e.Line), "err", e.Err)
	return nil
}

// Err is nil when no line was bad, else ErrInput with the count.
func (l *ErrorLog) Err() error {
	if l.N == 0 {
		return nil
	}
	return fmt.Errorf("%w (%d)", ErrInput, l.N)
}
