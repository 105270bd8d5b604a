package logdump

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/internal/record"
)

// DefaultMaxBatchBytes bounds one batch and its decompressed records. Kafka's default
// max.message.bytes is about 1 MiB; the bound leaves room for topics that raised it.
const DefaultMaxBatchBytes = 64 << 20

// ErrDamaged is returned after a dump that found invalid batches or entries.
var ErrDamaged = errors.New("logdump: damaged file")

// Options say what to print.
type Options struct {
	Records       bool // one line per record
	PrintData     bool // keys and values too (implies Records)
	MaxBatchBytes int
}

// Command returns `log` with its `dump` subcommand.
func Command() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Inspect partition log files offline",
	}
	var o Options
	dump := &cobra.Command{
		Use:   "dump FILE...",
		Short: "Print the batches and records of .log segments and the entries of index files",
		Long: `Print log files of a partition directory (<log.dirs>/<topic>-<partition>/) without a broker:
.log segments (record batches; --records for each record, --print-data for keys and values),
.index and .timeindex files (their entries) and producer .snapshot files.

The exit code is 1 when a file has invalid batches or bytes that do not make a whole
batch (a damaged or torn segment), after everything readable was printed.`,
		Example: `  sluice log dump sluice-data/orders-0/00000000000000000000.log --print-data
  sluice log dump sluice-data/orders-0/00000000000000000000.index`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			if o.MaxBatchBytes <= record.HeaderSize {
				return cli.Usagef("--max-batch-bytes must be more than %d", record.HeaderSize)
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			var damaged []string
			for i, f := range files {
				if i > 0 {
					fmt.Fprintln(w)
				}
				err := Dump(w, f, o)
				if errors.Is(err, ErrDamaged) {
					damaged = append(damaged, f)
					continue
				}
				if err != nil {
					w.Flush()
					return err
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if len(damaged) > 0 {
				return cli.Failedf("damaged: %s", strings.Join(damaged, ", "))
			}
			return nil
		},
	}
	fs := dump.Flags()
	fs.BoolVar(&o.Records, "records", false, "print every record of every batch")
	fs.BoolVarP(&o.PrintData, "print-data", "d", false, "print keys and values (implies --records)")
	fs.IntVar(&o.MaxBatchBytes, "max-batch-bytes", DefaultMaxBatchBytes, "largest batch (and decompressed batch) read")
	cmd.AddCommand(dump)
	return cmd
}

// Dump prints one file, chosen by its extension. It returns ErrDamaged (wrapped) after
// printing when the file has invalid content.
func Dump(w io.Writer, path string, o Options) error {
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	ext := filepath.Ext(path)
	base, err := strconv.ParseInt(strings.TrimSuffix(filepath.Base(path), ext), 10, 64)
	if err != nil && ext != ".log" {
		return cli.Usagef("%s: the file name must be the 20-digit base offset of its segment", path)
	}
	dumpFn, ok := map[string]func(io.Writer, *bufio.Reader, int64, Options) error{
		".log": dumpLog, ".index": dumpIndex, ".timeindex": dumpTimeIndex, ".snapshot": dumpSnapshot,
	}[ext]
	if !ok {
		return cli.Usagef("%s: not a .log, .index, .timeindex or .snapshot file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return cli.Failedf("%v", err)
	}
	defer f.Close()
	fmt.Fprintf(w, "Dumping %s\n", path)
	if err := dumpFn(w, bufio.NewReaderSize(f, 64<<10), base, o); err != nil {
		if errors.Is(err, ErrDamaged) {
			return fmt.Errorf("%s: %w", path, err)
		}
		return fmt.Errorf("reading %s: %w", path, err)
	}
	return nil
}

func dumpLog(w io.Writer, r *bufio.Reader, _ int64, o Options) error {
	var (
		buf      []byte
		records  []byte
		pos      int64
		damaged  bool
		overhead [record.LogOverhead]byte
	)
	for {
		n, err := io.ReadFull(r, overhead[:])
		if err == io.EOF {
			break
		}
		if err == io.ErrUnexpectedEOF {
			fmt.Fprintf(w, "position: %d: %d bytes at the end are not a whole batch\n", pos, n)
			damaged = true
			break
		}
		if err != nil {
			return err
		}
		length := int64(int32(binary.BigEndian.Uint32(overhead[8:12])))
		size := record.LogOverhead + length
		if length < record.HeaderSize-record.LogOverhead || size > int64(o.MaxBatchBytes) {
			fmt.Fprintf(w, "position: %d: batch length %d is invalid (a batch is %d to %d bytes): the rest of the file is not read\n",
				pos, length, record.HeaderSize, o.MaxBatchBytes)
			damaged = true
			break
		}
		if cap(buf) < int(size) {
			buf = make([]byte, size)
		}
		buf = buf[:size]
		copy(buf, overhead[:])
		if n, err := io.ReadFull(r, buf[record.LogOverhead:]); err != nil {
			if err == io.ErrUnexpectedEOF || err == io.EOF {
				fmt.Fprintf(w, "position: %d: %d bytes at the end are not a whole batch\n", pos, record.LogOverhead+n)
				damaged = true
				break
			}
			return err
		}
		b := record.Batch(buf)
		_, _, perr := record.Parse(buf, 0)
		printBatch(w, b, pos, perr)
		if perr != nil {
			damaged = true
		} else if o.Records || o.PrintData {
			if records, err = printRecords(w, b, records, o); err != nil {
				fmt.Fprintf(w, "| invalid records: %v\n", err)
				damaged = true
			}
		}
		pos += size
	}
	if damaged {
		return ErrDamaged
	}
	return nil
}

func printBatch(w io.Writer, b record.Batch, pos int64, parseErr error) {
	horizon := "-"
	if b.HasDeleteHorizon() {
		horizon = strconv.FormatInt(b.BaseTimestamp(), 10)
	}
	timeType := "CreateTime"
	if b.LogAppendTime() {
		timeType = "LogAppendTime"
	}
	fmt.Fprintf(w, "baseOffset: %d lastOffset: %d count: %d baseSequence: %d lastSequence: %d producerId: %d producerEpoch: %d "+
		"partitionLeaderEpoch: %d isTransactional: %t isControl: %t deleteHorizonMs: %s position: %d %s: %d size: %d "+
		"magic: %d compression: %s crc: %d isValid: %t",
		b.BaseOffset(), b.LastOffset(), b.RecordCount(), b.BaseSequence(), b.LastSequence(), b.ProducerID(), b.ProducerEpoch(),
		b.PartitionLeaderEpoch(), b.IsTransactional(), b.IsControl(), horizon, pos, timeType, b.MaxTimestamp(), len(b),
		b.Magic(), compressionName(b), b.CRC(), parseErr == nil)
	if parseErr != nil {
		fmt.Fprintf(w, " error: %v", parseErr)
	}
	fmt.Fprintln(w)
}

func compressionName(b record.Batch) string {
	if b.Magic() != record.Magic {
		return "?"
	}
	return strings.ToLower(b.Compression().String())
}

// printRecords prints b's records; dst is reused for decompression and returned.
func printRecords(w io.Writer, b record.Batch, dst []byte, o Options) ([]byte, error) {
	recs, err := record.Decompress(dst, b, o.MaxBatchBytes)
	if err != nil {
		return dst, err
	}
	if b.Compression() != record.CompressionNone {
		dst = recs
	}
	it := record.NewRecordIter(recs, b.RecordCount())
	for it.Next() {
		r := it.Record()
		timeType := "CreateTime"
		if b.LogAppendTime() {
			timeType = "LogAppendTime"
		}
		fmt.Fprintf(w, "| offset: %d %s: %d keySize: %d valueSize: %d sequence: %d headerKeys: [",
			r.Offset(b), timeType, r.Timestamp(b), size(r.Key), size(r.Value), r.Sequence(b))
		hi := r.Headers.Iter()
		for i := 0; ; i++ {
			h, ok := hi.Next()
			if !ok {
				break
			}
			if i > 0 {
				fmt.Fprint(w, ",")
			}
			fmt.Fprint(w, text(h.Key))
		}
		fmt.Fprint(w, "]")
		if b.IsControl() {
			if t, err := record.ParseControlKey(r.Key); err == nil {
				fmt.Fprintf(w, " controlType: %s", t)
				if t == record.ControlAbort || t == record.ControlCommit {
					if epoch, err := record.ParseTxnMarkerValue(r.Value); err == nil {
						fmt.Fprintf(w, " coordinatorEpoch: %d", epoch)
					}
				}
			}
		} else if o.PrintData {
			fmt.Fprintf(w, " key: %s payload: %s", text(r.Key), text(r.Value))
		}
		fmt.Fprintln(w)
	}
	return dst, it.Err()
}

func size(b []byte) int {
	if b == nil {
		return -1
	}
	return len(b)
}

// text prints bytes as they are when they are printable UTF-8, else quoted; null is "null".
func text(b []byte) string {
	if b == nil {
		return "null"
	}
	if utf8.Valid(b) && !strings.ContainsFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) }) {
		return string(b)
	}
	return strconv.Quote(string(b))
}

func dumpIndex(w io.Writer, r *bufio.Reader, base int64, _ Options) error {
	var e [8]byte
	for i := 0; ; i++ {
		n, err := io.ReadFull(r, e[:])
		if err == io.EOF {
			return nil
		}
		if err == io.ErrUnexpectedEOF {
			fmt.Fprintf(w, "%d bytes at the end are not a whole entry\n", n)
			return ErrDamaged
		}
		if err != nil {
			return err
		}
		rel := int32(binary.BigEndian.Uint32(e[0:4]))
		pos := int32(binary.BigEndian.Uint32(e[4:8]))
		if i > 0 && rel == 0 && pos == 0 {
			return nil // preallocated space after the last entry
		}
		fmt.Fprintf(w, "offset: %d position: %d\n", base+int64(rel), pos)
	}
}

func dumpTimeIndex(w io.Writer, r *bufio.Reader, base int64, _ Options) error {
	var e [12]byte
	for {
		n, err := io.ReadFull(r, e[:])
		if err == io.EOF {
			return nil
		}
		if err == io.ErrUnexpectedEOF {
			fmt.Fprintf(w, "%d bytes at the end are not a whole entry\n", n)
			return ErrDamaged
		}
		if err != nil {
			return err
		}
		ts := int64(binary.BigEndian.Uint64(e[0:8]))
		rel := int32(binary.BigEndian.Uint32(e[8:12]))
		if ts == 0 && rel == 0 {
			return nil // preallocated space after the last entry
		}
		fmt.Fprintf(w, "timestamp: %d offset: %d\n", ts, base+int64(rel))
	}
}

// Producer snapshot layout (internal/storage/doc.go): version int16, crc uint32 (CRC32C of
// every byte after it), count int32, then count entries of snapshotEntryBytes.
const (
	snapshotHeaderBytes = 10
	snapshotEntryBytes  = 46
	// maxSnapshotBytes bounds the file read into memory: a million producers.
	maxSnapshotBytes = snapshotHeaderBytes + 1_000_000*snapshotEntryBytes
)

func dumpSnapshot(w io.Writer, r *bufio.Reader, _ int64, _ Options) error {
	data, err := io.ReadAll(io.LimitReader(r, maxSnapshotBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxSnapshotBytes {
		fmt.Fprintf(w, "the file is larger than %d bytes\n", maxSnapshotBytes)
		return ErrDamaged
	}
	if len(data) < snapshotHeaderBytes {
		fmt.Fprintf(w, "%d bytes: too short for a snapshot header\n", len(data))
		return ErrDamaged
	}
	version := int16(binary.BigEndian.Uint16(data[0:2]))
	crc := binary.BigEndian.Uint32(data[2:6])
	count := int32(binary.BigEndian.Uint32(data[6:10]))
	valid := crc32.Checksum(data[6:], crc32.MakeTable(crc32.Castagnoli)) == crc
	fmt.Fprintf(w, "version: %d count: %d crc: %d isValid: %t\n", version, count, crc, valid)
	entries := data[snapshotHeaderBytes:]
	if count < 0 || int64(count)*snapshotEntryBytes != int64(len(entries)) {
		fmt.Fprintf(w, "count %d does not match the %d bytes of entries\n", count, len(entries))
		return ErrDamaged
	}
	for e := entries; len(e) >= snapshotEntryBytes; e = e[snapshotEntryBytes:] {
		fmt.Fprintf(w, "producerId: %d producerEpoch: %d lastSequence: %d lastOffset: %d offsetDelta: %d timestamp: %d "+
			"coordinatorEpoch: %d currentTxnFirstOffset: %d\n",
			int64(binary.BigEndian.Uint64(e[0:8])), int16(binary.BigEndian.Uint16(e[8:10])),
			int32(binary.BigEndian.Uint32(e[10:14])), int64(binary.BigEndian.Uint64(e[14:22])),
			int32(binary.BigEndian.Uint32(e[22:26])), int64(binary.BigEndian.Uint64(e[26:34])),
			int32(binary.BigEndian.Uint32(e[34:38])), int64(binary.BigEndian.Uint64(e[38:46])))
	}
	if !valid {
		return ErrDamaged
	}
	return nil
}
