package classlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

// RFC 5849 §1.2: Jane's photo request signed with HMAC-SHA1 (three-legged,
// which is why the signer takes an optional token).
func TestOAuth1RFC5849PhotosExample(t *testing.T) {
	u, _ := url.Parse("http://photos.example.net/photos?file=vacation.jpg&size=original")
	o := OAuth1{
		ConsumerKey: "dpf43f3p2l4k3l03", ConsumerSecret: "kd94hf93k423kf44",
		Token: "nnch734d00sl2jdk", TokenSecret: "pfkkdhi9sl3r4s00",
		SignatureMethod: HMACSHA1, Realm: "Photos",
	}
	h, err := o.Authorization("GET", u, nil, "137131202", "chapoH")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ParseAuthorization(h)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p["oauth_signature"], "MdpQcU8iPSUjWoN/UDMsK2sui9I="; got != want {
		t.Errorf("signature = %q, want %q (RFC 5849 §1.2)", got, want)
	}
	if !strings.Contains(h, `oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"`) {
		t.Errorf("header does not carry the percent-encoded signature: %s", h)
	}
	if p["realm"] != "Photos" || p["oauth_token"] != "nnch734d00sl2jdk" {
		t.Errorf("realm/token not sent: %v", p)
	}
	if _, ok := p["oauth_version"]; ok {
		t.Error("oauth_version sent although Version is empty")
	}
}

// RFC 5849 §3.4.1.1: the signature base string of the worked example, with
// query parameters, form-body parameters, a repeated name and encoded
// characters.
func TestOAuth1RFC5849BaseString(t *testing.T) {
	u, _ := url.Parse("http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b")
	params := QueryParams(u.RawQuery)
	for k, v := range QueryParams("c2&a3=2+q") { // the form body
		params[k] = append(params[k], v...)
	}
	for k, v := range map[string]string{
		"oauth_consumer_key": "9djdj82h48djs9d2", "oauth_token": "kkk9d7dh3k39sjv7",
		"oauth_signature_method": "HMAC-SHA1", "oauth_timestamp": "137131201", "oauth_nonce": "7d8f3e4a",
	} {
		params[k] = append(params[k], v)
	}
	want := "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q" +
		"%26a3%3Da%26b5%3D%253D%25253D%26c%2540%3D%26c2%3D%26oauth_consumer_" +
		"key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26oauth_signature_m" +
		"ethod%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk" +
		"9d7dh3k39sjv7"
	if got := SignatureBaseString("POST", u, params); got != want {
		t.Errorf("base string\n got %s\nwant %s", got, want)
	}
}

// A ClassLink-shaped two-legged HMAC-SHA256 request. The expectation is
// built by hand here, independently of SignatureBaseString and Signature.
func TestOAuth1SHA256TwoLegged(t *testing.T) {
	cases := []struct {
		name, rawURL, secret, wantBase string
	}{
		{
			name:   "users page with filter and fields",
			rawURL: "https://acme-ca-v2.oneroster.com:443/ims/oneroster/v1p1/users?limit=10000&offset=20000&sort=sourcedId&filter=dateLastModified%3E%272026-01-01T00%3A00%3A00Z%27%20AND%20status%3D%27active%27&fields=sourcedId%2Cstatus",
			secret: "s3cr3t+/=&key",
			wantBase: "GET&https%3A%2F%2Facme-ca-v2.oneroster.com%2Fims%2Foneroster%2Fv1p1%2Fusers&" +
				"fields%3DsourcedId%252Cstatus%26" +
				"filter%3DdateLastModified%253E%25272026-01-01T00%253A00%253A00Z%2527%2520AND%2520status%253D%2527active%2527%26" +
				"limit%3D10000%26" +
				"oauth_consumer_key%3Dck-123%26oauth_nonce%3Dn0nce%26oauth_signature_method%3DHMAC-SHA256%26" +
				"oauth_timestamp%3D1767225600%26oauth_version%3D1.0%26" +
				"offset%3D20000%26sort%3DsourcedId",
		},
		{
			name:   "loopback with port and plus sign in value",
			rawURL: "http://127.0.0.1:8080/ims/oneroster/v1p1/schools?limit=1&filter=name%3D%27A%2BB%20C%27",
			secret: "plain",
			wantBase: "GET&http%3A%2F%2F127.0.0.1%3A8080%2Fims%2Foneroster%2Fv1p1%2Fschools&" +
				"filter%3Dname%253D%2527A%252BB%2520C%2527%26limit%3D1%26" +
				"oauth_consumer_key%3Dck-123%26oauth_nonce%3Dn0nce%26oauth_signature_method%3DHMAC-SHA256%26" +
				"oauth_timestamp%3D1767225600%26oauth_version%3D1.0",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.Parse(tc.rawURL)
			if err != nil {
				t.Fatal(err)
			}
			// key = enc(secret)&  (no token secret), encoded by hand.
			key := strings.NewReplacer("+", "%2B", "/", "%2F", "=", "%3D", "&", "%26").Replace(tc.secret) + "&"
			mac := hmac.New(sha256.New, []byte(key))
			mac.Write([]byte(tc.wantBase))
			want := base64.StdEncoding.EncodeToString(mac.Sum(nil))

			o := OAuth1{ConsumerKey: "ck-123", ConsumerSecret: tc.secret, SignatureMethod: HMACSHA256, Version: "1.0"}
			h, err := o.Authorization("GET", u, nil, "1767225600", "n0nce")
			if err != nil {
				t.Fatal(err)
			}
			p, _ := ParseAuthorization(h)
			if p["oauth_signature"] != want {
				t.Errorf("signature %q, want %q\nbase computed: %s", p["oauth_signature"], want,
					SignatureBaseString("GET", u, withOAuth(QueryParams(u.RawQuery), p)))
			}
			if p["oauth_token"] != "" || strings.Contains(h, "oauth_token") {
				t.Error("two-legged request must not send oauth_token")
			}
		})
	}
}

func withOAuth(q url.Values, p map[string]string) url.Values {
	for k, v := range p {
		if k != "oauth_signature" {
			q[k] = append(q[k], v)
		}
	}
	return q
}

func TestPercentEncode(t *testing.T) {
	for in, want := range map[string]string{
		"abc-._~XYZ019": "abc-._~XYZ019",
		"a b":           "a%20b",
		"a+b":           "a%2Bb",
		"=&,'>:/":       "%3D%26%2C%27%3E%3A%2F",
		"é":             "%C3%A9",
		"%":             "%25",
		"":              "",
	} {
		if got := PercentEncode(in); got != want {
			t.Errorf("PercentEncode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSignatureRejectsUnknownMethod(t *testing.T) {
	if _, err := Signature("RSA-SHA1", "x", "s", ""); err == nil {
		t.Error("RSA-SHA1 accepted")
	}
}

func TestParseAuthorizationRejectsJunk(t *testing.T) {
	for _, h := range []string{"Bearer x", `OAuth a=b`, `OAuth a="1", a="2"`, `OAuth a="%zz"`} {
		if _, err := ParseAuthorization(h); err == nil {
			t.Errorf("ParseAuthorization(%q) accepted", h)
		}
	}
}
