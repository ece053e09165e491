package qrcode

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	zxingdecoder "github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// This file checks a rendered symbol against ISO/IEC 18004 without trusting
// any decoder's error correction: it reads the format information, unmasks,
// reads the codewords in placement order, de-interleaves the blocks,
// recomputes every block's Reed-Solomon check codewords with its own
// GF(256) arithmetic, and then rebuilds the whole symbol from those pieces
// and compares it module by module. A decoder corrects a wrong check
// codeword silently; this does not. Only the block table (codeword counts
// per version and level) and the alignment-pattern positions come from
// gozxing.

// gf256 is GF(2^8) with the QR field polynomial x^8+x^4+x^3+x^2+1 (0x11d)
// and generator α = 2.
type gf256 struct {
	exp [512]byte
	log [256]int
}

func newGF256() *gf256 {
	f := &gf256{}
	x := 1
	for i := range 255 {
		f.exp[i] = byte(x)
		f.log[x] = i
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11d
		}
	}
	for i := 255; i < len(f.exp); i++ {
		f.exp[i] = f.exp[i-255]
	}
	return f
}

func (f *gf256) mul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return f.exp[f.log[a]+f.log[b]]
}

// ecCodewords is the remainder of data(x)·x^n divided by the generator
// polynomial (x-α^0)(x-α^1)…(x-α^(n-1)).
func (f *gf256) ecCodewords(data []byte, n int) []byte {
	gen := []byte{1} // highest degree first
	for i := range n {
		next := make([]byte, len(gen)+1)
		for j, c := range gen {
			next[j] ^= c
			next[j+1] ^= f.mul(c, f.exp[i])
		}
		gen = next
	}
	rem := make([]byte, n)
	for _, d := range data {
		factor := d ^ rem[0]
		copy(rem, rem[1:])
		rem[n-1] = 0
		for j := range n {
			rem[j] ^= f.mul(gen[j+1], factor)
		}
	}
	return rem
}

// bchRemainder is value·x^degree(gen) mod gen over GF(2).
func bchRemainder(value, gen int) int {
	deg := 0
	for g := gen; g > 1; g >>= 1 {
		deg++
	}
	r := value << deg
	for i := 31; i >= deg; i-- {
		if r>>i&1 != 0 {
			r ^= gen << (i - deg)
		}
	}
	return r
}

func formatWord(levelBits, mask int) int {
	d := levelBits<<3 | mask
	return (d<<10 | bchRemainder(d, 0x537)) ^ 0x5412
}

func versionWord(version int) int { return version<<12 | bchRemainder(version, 0x1f25) }

func maskBit(mask, x, y int) bool {
	switch mask {
	case 0:
		return (x+y)%2 == 0
	case 1:
		return y%2 == 0
	case 2:
		return x%3 == 0
	case 3:
		return (x+y)%3 == 0
	case 4:
		return (y/2+x/3)%2 == 0
	case 5:
		return x*y%2+x*y%3 == 0
	case 6:
		return (x*y%2+x*y%3)%2 == 0
	default:
		return ((x+y)%2+x*y%3)%2 == 0
	}
}

// symbolLayout holds the function patterns of one version: fixed says
// whether a module belongs to one, dark what it must be (format and version
// information excepted, filled in later).
type symbolLayout struct {
	size        int
	fixed, dark [][]bool
}

func newLayout(version int, alignment []int) *symbolLayout {
	size := 17 + 4*version
	l := &symbolLayout{size: size, fixed: make([][]bool, size), dark: make([][]bool, size)}
	for y := range size {
		l.fixed[y], l.dark[y] = make([]bool, size), make([]bool, size)
	}
	set := func(x, y int, dark bool) {
		if x >= 0 && x < size && y >= 0 && y < size {
			l.fixed[y][x], l.dark[y][x] = true, dark
		}
	}
	// Timing patterns, then finders with their light separators on top.
	for i := range size {
		set(6, i, i%2 == 0)
		set(i, 6, i%2 == 0)
	}
	for _, c := range [][2]int{{3, 3}, {size - 4, 3}, {3, size - 4}} {
		for dy := -4; dy <= 4; dy++ {
			for dx := -4; dx <= 4; dx++ {
				d := max(abs(dx), abs(dy))
				set(c[0]+dx, c[1]+dy, d != 2 && d != 4)
			}
		}
	}
	last := len(alignment) - 1
	for i, cy := range alignment {
		for j, cx := range alignment {
			if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) {
				continue // under a finder
			}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					set(cx+dx, cy+dy, max(abs(dx), abs(dy)) != 1)
				}
			}
		}
	}
	set(8, size-8, true) // the dark module
	for _, p := range formatPositions(size) {
		set(p[0][0], p[0][1], false)
		set(p[1][0], p[1][1], false)
	}
	if version >= 7 {
		for _, p := range versionPositions(size) {
			set(p[0][0], p[0][1], false)
			set(p[1][0], p[1][1], false)
		}
	}
	return l
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// formatPositions gives, for format bit i (0 = least significant), its
// (x, y) in the copy around the top-left finder and in the split copy.
func formatPositions(size int) [15][2][2]int {
	var p [15][2][2]int
	for i := range 15 {
		switch {
		case i < 6:
			p[i][0] = [2]int{8, i}
		case i < 8:
			p[i][0] = [2]int{8, i + 1}
		case i == 8:
			p[i][0] = [2]int{7, 8}
		default:
			p[i][0] = [2]int{14 - i, 8}
		}
		if i < 8 {
			p[i][1] = [2]int{size - 1 - i, 8}
		} else {
			p[i][1] = [2]int{8, size - 15 + i}
		}
	}
	return p
}

// versionPositions gives, for version bit i, its (x, y) in the block above
// the bottom-left finder and in the one left of the top-right finder.
func versionPositions(size int) [18][2][2]int {
	var p [18][2][2]int
	for i := range 18 {
		a, b := size-11+i%3, i/3
		p[i] = [2][2]int{{b, a}, {a, b}}
	}
	return p
}

// placement lists the data-region modules in codeword-bit order: two-module
// columns from the right, alternately upwards and downwards, skipping the
// vertical timing column.
func (l *symbolLayout) placement() [][2]int {
	var order [][2]int
	for right := l.size - 1; right >= 1; right -= 2 {
		if right == 6 {
			right = 5
		}
		upward := (right+1)&2 == 0
		for v := range l.size {
			y := v
			if upward {
				y = l.size - 1 - v
			}
			for dx := range 2 {
				if x := right - dx; !l.fixed[y][x] {
					order = append(order, [2]int{x, y})
				}
			}
		}
	}
	return order
}

// symbolCheck is what verifySymbol found.
type symbolCheck struct {
	Version, Mask   int
	Data            []byte   // data codewords, in block order
	ECRead, ECRight [][]byte // per block: as read, and recomputed
}

// verifySymbol checks that m (quiet zone included) is a well-formed level-Q
// symbol carrying payload as one byte-mode segment: quiet zone, function
// patterns, format and version information, data codewords (mode, count,
// bytes, terminator, pad codewords), Reed-Solomon check codewords, and
// finally every module against a symbol rebuilt from those parts.
func verifySymbol(m Matrix, payload []byte) (symbolCheck, error) {
	var c symbolCheck
	q := QuietZone
	size := m.Size() - 2*q
	if size < 21 || (size-17)%4 != 0 {
		return c, fmt.Errorf("symbol %d modules wide is no QR version", size)
	}
	for y := range m.Size() {
		if len(m.Modules[y]) != m.Size() {
			return c, fmt.Errorf("row %d is %d wide, want %d", y, len(m.Modules[y]), m.Size())
		}
		for x := range m.Size() {
			if (x < q || y < q || x >= q+size || y >= q+size) && m.Dark(x, y) {
				return c, fmt.Errorf("quiet zone module %d,%d is dark", x, y)
			}
		}
	}
	dark := func(x, y int) bool { return m.Dark(q+x, q+y) }
	c.Version = (size - 17) / 4
	ver, err := zxingdecoder.Version_GetVersionForNumber(c.Version)
	if err != nil {
		return c, err
	}
	layout := newLayout(c.Version, ver.GetAlignmentPatternCenters())

	// Format information: both copies must agree and be a valid level-Q word.
	var format [2]int
	for i, pos := range formatPositions(size) {
		for k := range 2 {
			if dark(pos[k][0], pos[k][1]) {
				format[k] |= 1 << i
			}
		}
	}
	if format[0] != format[1] {
		return c, fmt.Errorf("format copies differ: %015b, %015b", format[0], format[1])
	}
	c.Mask = -1
	for mask := range 8 {
		if formatWord(0b11, mask) == format[0] {
			c.Mask = mask
		}
	}
	if c.Mask < 0 {
		return c, fmt.Errorf("format %015b is no level-Q format word", format[0])
	}
	for i, pos := range formatPositions(size) {
		for k := range 2 {
			layout.dark[pos[k][1]][pos[k][0]] = format[0]>>i&1 == 1
		}
	}
	if c.Version >= 7 {
		want := versionWord(c.Version)
		for i, pos := range versionPositions(size) {
			for k := range 2 {
				if got := dark(pos[k][0], pos[k][1]); got != (want>>i&1 == 1) {
					return c, fmt.Errorf("version information bit %d (copy %d) is %v, want %018b", i, k, got, want)
				}
				layout.dark[pos[k][1]][pos[k][0]] = want>>i&1 == 1
			}
		}
	}
	for y := range size {
		for x := range size {
			if layout.fixed[y][x] && dark(x, y) != layout.dark[y][x] {
				return c, fmt.Errorf("function pattern module %d,%d is dark=%v", x, y, dark(x, y))
			}
		}
	}

	// Codewords in placement order, unmasked.
	order := layout.placement()
	total := ver.GetTotalCodewords()
	if len(order) < 8*total {
		return c, fmt.Errorf("%d data modules for %d codewords", len(order), total)
	}
	stream := make([]byte, total)
	for i := range 8 * total {
		x, y := order[i][0], order[i][1]
		if dark(x, y) != maskBit(c.Mask, x, y) {
			stream[i/8] |= 0x80 >> (i % 8)
		}
	}

	// De-interleave: data codewords round-robin over the blocks (the longer
	// blocks come last and get one more), then the check codewords.
	ecb := ver.GetECBlocksForLevel(zxingdecoder.ErrorCorrectionLevel_Q)
	ecLen := ecb.GetECCodewordsPerBlock()
	var dataLens []int
	for _, b := range ecb.GetECBlocks() {
		for range b.GetCount() {
			dataLens = append(dataLens, b.GetDataCodewords())
		}
	}
	blocks := make([][]byte, len(dataLens))
	c.ECRead = make([][]byte, len(dataLens))
	pos := 0
	for i := 0; i < dataLens[len(dataLens)-1]; i++ {
		for b, n := range dataLens {
			if i < n {
				blocks[b] = append(blocks[b], stream[pos])
				pos++
			}
		}
	}
	for range ecLen {
		for b := range blocks {
			c.ECRead[b] = append(c.ECRead[b], stream[pos])
			pos++
		}
	}
	gf := newGF256()
	var ecErr error
	for b, data := range blocks {
		c.Data = append(c.Data, data...)
		right := gf.ecCodewords(data, ecLen)
		c.ECRight = append(c.ECRight, right)
		if !bytes.Equal(right, c.ECRead[b]) && ecErr == nil {
			ecErr = fmt.Errorf("block %d of %d (%d data codewords): check codewords\n read %x\n want %x", b+1, len(blocks), len(data), c.ECRead[b], right)
		}
	}
	if ecErr != nil {
		return c, ecErr
	}
	if err := checkDataCodewords(c.Data, payload, c.Version); err != nil {
		return c, err
	}

	// Rebuild: the interleaved codewords, zero remainder bits, masked.
	for y := range size {
		for x := range size {
			if !layout.fixed[y][x] {
				layout.dark[y][x] = maskBit(c.Mask, x, y) // remainder bits are 0
			}
		}
	}
	for i := range 8 * total {
		x, y := order[i][0], order[i][1]
		layout.dark[y][x] = (stream[i/8]>>(7-i%8)&1 == 1) != maskBit(c.Mask, x, y)
	}
	for y := range size {
		for x := range size {
			if layout.dark[y][x] != dark(x, y) {
				return c, fmt.Errorf("module %d,%d differs from the rebuilt symbol", x, y)
			}
		}
	}
	return c, nil
}

// checkDataCodewords wants exactly: byte mode, the count, the payload, a
// 0000 terminator (shortened only at the very end), zero bits to the byte
// boundary, then 0xec 0x11 alternately.
func checkDataCodewords(data, payload []byte, version int) error {
	var want []byte
	var acc, nbits int
	put := func(v, n int) {
		for i := n - 1; i >= 0; i-- {
			acc = acc<<1 | v>>i&1
			if nbits++; nbits == 8 {
				want = append(want, byte(acc))
				acc, nbits = 0, 0
			}
		}
	}
	put(0b0100, 4)
	if version >= 10 {
		put(len(payload), 16)
	} else {
		put(len(payload), 8)
	}
	for _, b := range payload {
		put(int(b), 8)
	}
	for i := 0; i < 4 && 8*len(want)+nbits < 8*len(data); i++ {
		put(0, 1)
	}
	for nbits != 0 {
		put(0, 1)
	}
	for i := 0; len(want) < len(data); i++ {
		want = append(want, []byte{0xec, 0x11}[i%2])
	}
	if !bytes.Equal(want, data) {
		return fmt.Errorf("data codewords\n read %x\n want %x", data, want)
	}
	return nil
}

// The check codewords of the worked example in ISO/IEC 18004 Annex I
// ("01234567", version 1-M).
func TestReedSolomonWorkedExample(t *testing.T) {
	data := []byte{0x10, 0x20, 0x0c, 0x56, 0x61, 0x80, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11, 0xec, 0x11}
	want := []byte{0xa5, 0x24, 0xd4, 0xc1, 0xed, 0x36, 0xc7, 0x87, 0x2c, 0x55}
	if got := newGF256().ecCodewords(data, len(want)); !bytes.Equal(got, want) {
		t.Fatalf("check codewords %x, want %x", got, want)
	}
}

// zbarPhantomPayload is a 167-byte MSC4108 payload whose symbol (version
// 11-Q: four blocks of 22 data codewords and four of 23, so the unequal
// interleaving is exercised) zbar reads correctly as a QR code but in which
// zbar's linear-barcode scanners also find an Interleaved 2 of 5 code
// "275643"; docs/build-notes.md "QR decoders".
var zbarPhantomPayload = mustHex("4d41545249580204fd401ac27d7c57598b42e828c4f5686e6b6f2171d901aca3297656c645d13503005d68747470733a2f2f786e2d2d6d747269782d6c72612e6578616d706c652f5f73796e617073652f636c69656e742f72656e64657a766f75732f64663763346233332d616334372d333431612d633135612d626137316638656535356339001e68747470733a2f2f786e2d2d6d747269782d6c72612e6578616d706c652f")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestPhantomPayloadSymbolIsValid(t *testing.T) {
	m, err := NewMatrix(zbarPhantomPayload)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifySymbol(m, zbarPhantomPayload)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != 11 || len(c.ECRead) != 8 {
		t.Fatalf("version %d with %d blocks, want 11 with 8", c.Version, len(c.ECRead))
	}
}

// verifySymbol itself must notice each kind of defect.
func TestVerifySymbolFindsDefects(t *testing.T) {
	p := zbarPhantomPayload
	m, err := NewMatrix(p)
	if err != nil {
		t.Fatal(err)
	}
	c, err := verifySymbol(m, p)
	if err != nil {
		t.Fatal(err)
	}
	size := m.Size() - 2*QuietZone
	ver, err := zxingdecoder.Version_GetVersionForNumber(c.Version)
	if err != nil {
		t.Fatal(err)
	}
	order := newLayout(c.Version, ver.GetAlignmentPatternCenters()).placement()
	lastBit := order[8*ver.GetTotalCodewords()-1] // in the last check codeword
	otherMask := formatWord(0b11, (c.Mask+1)%8)
	for _, tc := range []struct {
		name, want string
		change     func(rows [][]bool)
	}{
		{"check codeword bit", "check codewords", func(r [][]bool) { flip(r, lastBit[0], lastBit[1]) }},
		{"data codeword bit", "check codewords", func(r [][]bool) { flip(r, order[100][0], order[100][1]) }},
		{"one format copy", "format copies differ", func(r [][]bool) { flip(r, 8, 0) }},
		{"timing pattern", "function pattern", func(r [][]bool) { flip(r, 10, 6) }},
		{"dark module", "function pattern", func(r [][]bool) { flip(r, 8, size-8) }},
		{"quiet zone", "quiet zone", func(r [][]bool) { r[1][1] = true }},
		{"another mask's format", "check codewords", func(r [][]bool) {
			for i, pos := range formatPositions(size) {
				for k := range 2 {
					r[QuietZone+pos[k][1]][QuietZone+pos[k][0]] = otherMask>>i&1 == 1
				}
			}
		}},
	} {
		rows := make([][]bool, m.Size())
		for y := range rows {
			rows[y] = append([]bool(nil), m.Modules[y]...)
		}
		tc.change(rows)
		if _, err := verifySymbol(Matrix{Modules: rows}, p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error about %q", tc.name, err, tc.want)
		}
	}
	if _, err := verifySymbol(m, p[:len(p)-1]); err == nil || !strings.Contains(err.Error(), "data codewords") {
		t.Errorf("other payload: %v", err)
	}
}

func flip(rows [][]bool, x, y int) { rows[QuietZone+y][QuietZone+x] = !rows[QuietZone+y][QuietZone+x] }

// An independent encoder's symbol passes verifySymbol too, and carries the
// same data and check codewords as ours (only the mask may differ).
func TestQrencodeSymbolVerifies(t *testing.T) {
	qrencode, err := exec.LookPath("qrencode")
	if err != nil {
		t.Skip("qrencode (Debian qrencode) is not installed")
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "payload"), filepath.Join(dir, "qr.png")
	if err := os.WriteFile(in, zbarPhantomPayload, 0o600); err != nil {
		t.Fatal(err)
	}
	// One pixel per module, our quiet zone.
	cmd := exec.Command(qrencode, "-8", "-l", "Q", "-s", "1", "-m", strconv.Itoa(QuietZone), "-r", in, "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("qrencode: %v: %s", err, msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]bool, img.Bounds().Dy())
	for y := range rows {
		rows[y] = make([]bool, img.Bounds().Dx())
		for x := range rows[y] {
			r, _, _, _ := img.At(img.Bounds().Min.X+x, img.Bounds().Min.Y+y).RGBA()
			rows[y][x] = r < 0x8000
		}
	}
	theirs, err := verifySymbol(Matrix{Modules: rows}, zbarPhantomPayload)
	if err != nil {
		t.Fatalf("qrencode's symbol: %v", err)
	}
	m, err := NewMatrix(zbarPhantomPayload)
	if err != nil {
		t.Fatal(err)
	}
	ours, err := verifySymbol(m, zbarPhantomPayload)
	if err != nil {
		t.Fatal(err)
	}
	if theirs.Version != ours.Version || !bytes.Equal(theirs.Data, ours.Data) || !slices.EqualFunc(theirs.ECRead, ours.ECRead, bytes.Equal) {
		t.Fatalf("codewords differ from qrencode's (version %d vs %d)", ours.Version, theirs.Version)
	}
	t.Logf("version %d; mask %d (qrencode chose %d)", ours.Version, ours.Mask, theirs.Mask)
}
