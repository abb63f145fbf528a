package classlinktest

import "strconv"

// Phone numbers. Valid ones use long-established US area codes (all in
// libphonenumber's list of assigned NPAs) and an exchange NXX in [2-9]XX
// that is neither N11 nor 555, so libphonenumber's US rules (NPA and NXX
// both [2-9]XX on an assigned NPA) accept them; the free-text formats below
// are the ones SIS exports really contain.
var areaCodes = [...]int{
	201, 202, 203, 205, 206, 207, 208, 210, 212, 213, 214, 215, 216, 217, 218, 219,
	301, 302, 303, 304, 305, 307, 312, 313, 314, 315, 316, 317, 318, 319,
	401, 402, 404, 405, 406, 407, 408, 409, 410, 412, 413, 414, 415, 417, 419,
	501, 502, 503, 504, 505, 507, 508, 509, 512, 513, 515, 516, 517, 518,
	601, 602, 603, 605, 606, 607, 608, 609, 610, 612, 614, 615, 616, 617, 618, 619,
	702, 703, 704, 706, 707, 708, 712, 713, 714, 715, 716, 717, 718, 719, 725,
	801, 802, 803, 804, 805, 806, 808, 810, 812, 813, 814, 815, 816, 817, 818,
	901, 903, 904, 906, 907, 908, 909, 910, 912, 913, 914, 915, 916, 917, 918, 919,
}

// invalidPhones are junk values seen in real phone fields.
var invalidPhones = [...]string{"123", "n/a", "000-000-0000", "555-1234", "none", "(000) 000-0000", "TBD"}

// phoneParts derives NPA, NXX and line from a hash.
func phoneParts(h uint64) (npa, nxx, line int) {
	npa = areaCodes[h%uint64(len(areaCodes))]
	h /= uint64(len(areaCodes))
	nxx = 200 + int(h%800)
	h /= 800
	if nxx%100 == 11 || nxx == 555 {
		nxx++ // N11 codes are services; 555 is largely fictional
	}
	line = int(h % 10000)
	return
}

// formatPhone writes a valid number in one of the formats real data has,
// optionally with an extension.
func formatPhone(h uint64, ext bool) string {
	npa, nxx, line := phoneParts(h)
	a, x, l := strconv.Itoa(npa), strconv.Itoa(nxx), pad4(line)
	var s string
	switch (h >> 40) % 7 {
	case 0:
		s = "(" + a + ") " + x + "-" + l
	case 1:
		s = a + "." + x + "." + l
	case 2:
		s = "+1 " + a + " " + x + " " + l
	case 3:
		s = a + x + l
	case 4:
		s = a + "-" + x + "-" + l
	case 5:
		s = "1-" + a + "-" + x + "-" + l
	default:
		s = "+1" + a + x + l
	}
	if ext {
		n := strconv.Itoa(int(h>>48)%900 + 100)
		switch (h >> 58) % 3 {
		case 0:
			s += " x" + n
		case 1:
			s += " ext. " + n
		default:
			s += " ext " + n
		}
	}
	return s
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	return "0000"[len(s):] + s
}
