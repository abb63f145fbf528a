package classlink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"sort"
	"strings"
)

// OAuth1 signs requests per RFC 5849. rostersync signs two-legged (no
// token); Token and TokenSecret exist so the RFC's own examples can be
// checked.
type OAuth1 struct {
	ConsumerKey     string
	ConsumerSecret  string
	Token           string // optional
	TokenSecret     string // optional
	SignatureMethod string // HMACSHA256 or HMACSHA1
	Version         string // "1.0" is sent as oauth_version; "" leaves it out
	Realm           string // optional, never signed
}

// Authorization returns the Authorization header value for a request to u
// (its query included) with the given form-body parameters (nil for GET).
func (o OAuth1) Authorization(method string, u *url.URL, form url.Values, timestamp, nonce string) (string, error) {
	oauth := [][2]string{
		{"oauth_consumer_key", o.ConsumerKey},
		{"oauth_nonce", nonce},
		{"oauth_signature_method", o.SignatureMethod},
		{"oauth_timestamp", timestamp},
	}
	if o.Token != "" {
		oauth = append(oauth, [2]string{"oauth_token", o.Token})
	}
	if o.Version != "" {
		oauth = append(oauth, [2]string{"oauth_version", o.Version})
	}
	params := QueryParams(u.RawQuery)
	for k, vs := range form {
		params[k] = append(params[k], vs...)
	}
	for _, kv := range oauth {
		params[kv[0]] = append(params[kv[0]], kv[1])
	}
	sig, err := Signature(o.SignatureMethod, SignatureBaseString(method, u, params), o.ConsumerSecret, o.TokenSecret)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("OAuth ")
	if o.Realm != "" {
		fmt.Fprintf(&b, `realm="%s", `, PercentEncode(o.Realm))
	}
	for _, kv := range oauth {
		fmt.Fprintf(&b, `%s="%s", `, kv[0], PercentEncode(kv[1]))
	}
	fmt.Fprintf(&b, `oauth_signature="%s"`, PercentEncode(sig))
	return b.String(), nil
}

// PercentEncode encodes s per RFC 5849 §3.6: the unreserved characters
// ALPHA, DIGIT, '-', '.', '_', '~' stay, every other byte of the UTF-8 form
// becomes %XX with upper-case hex (so a space is %20, never +).
func PercentEncode(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
		}
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// QueryParams decodes a raw query the way RFC 5849 §3.4.1.3.1 asks
// (application/x-www-form-urlencoded: '+' is a space), keeping empty values
// and names without '='. Malformed escapes are kept literally rather than
// dropped, so the signature still covers them.
func QueryParams(rawQuery string) url.Values {
	v := url.Values{}
	for rawQuery != "" {
		var pair string
		pair, rawQuery, _ = strings.Cut(rawQuery, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		v[formUnescape(name)] = append(v[formUnescape(name)], formUnescape(value))
	}
	return v
}

func formUnescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return s
	}
	return u
}

// SignatureBaseString builds the RFC 5849 §3.4.1 base string. params must
// hold every query, form-body and oauth_* parameter, without oauth_signature
// and realm.
func SignatureBaseString(method string, u *url.URL, params url.Values) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(params)+6)
	for k, vs := range params {
		ek := PercentEncode(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, PercentEncode(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var norm strings.Builder
	for i, p := range pairs {
		if i > 0 {
			norm.WriteByte('&')
		}
		norm.WriteString(p.k)
		norm.WriteByte('=')
		norm.WriteString(p.v)
	}
	return strings.ToUpper(method) + "&" + PercentEncode(BaseStringURI(u)) + "&" + PercentEncode(norm.String())
}

// BaseStringURI is RFC 5849 §3.4.1.2: lower-case scheme and host, the port
// only when it is not the scheme's default, the path as sent, no query.
func BaseStringURI(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if p := u.Port(); p != "" && !(scheme == "http" && p == "80") && !(scheme == "https" && p == "443") {
		host += ":" + p
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + path
}

// Signature computes the base64 HMAC of baseString with the key
// enc(consumerSecret)&enc(tokenSecret).
func Signature(signatureMethod, baseString, consumerSecret, tokenSecret string) (string, error) {
	var h func() hash.Hash
	switch signatureMethod {
	case HMACSHA256:
		h = sha256.New
	case HMACSHA1:
		h = sha1.New
	default:
		return "", fmt.Errorf("classlink: signature method %q is not supported", signatureMethod)
	}
	mac := hmac.New(h, []byte(PercentEncode(consumerSecret)+"&"+PercentEncode(tokenSecret)))
	mac.Write([]byte(baseString))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// ParseAuthorization reads the parameters of an `OAuth k="v", ...` header,
// decoding their values. realm is returned like any other parameter.
func ParseAuthorization(header string) (map[string]string, error) {
	rest, ok := strings.CutPrefix(header, "OAuth ")
	if !ok {
		return nil, errors.New("not an OAuth authorization header")
	}
	out := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok || len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
			return nil, fmt.Errorf("malformed OAuth parameter %q", k)
		}
		dv, err := url.PathUnescape(v[1 : len(v)-1])
		if err != nil {
			return nil, fmt.Errorf("malformed OAuth parameter %q", k)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("duplicate OAuth parameter %q", k)
		}
		out[k] = dv
	}
	return out, nil
}

func randomNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
