// An independent C2SP peer for parley's tests, written against Go's
// golang.org/x/mod (sumdb/note, sumdb/tlog) as Debian ships it, built in
// GOPATH mode by the tests. None of parley's code is used.
//
//	c2sp witness LISTEN NAME SEED_HEX ORIGIN=VKEY...
//	    a tlog-witness (C2SP tlog-witness, submission prefix "/"): it
//	    prints its cosignature/v1 vkey, then serves add-checkpoint.
//	c2sp open VKEY < NOTE
//	    note.Open with one verifier key; prints the verified signer names.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type state struct {
	size int64
	hash tlog.Hash
}

func main() {
	if len(os.Args) >= 3 && os.Args[1] == "open" {
		v, err := note.NewVerifier(os.Args[2])
		if err != nil {
			fail("verifier: %v", err)
		}
		msg, _ := io.ReadAll(os.Stdin)
		n, err := note.Open(msg, note.VerifierList(v))
		if err != nil {
			fail("note.Open: %v", err)
		}
		for _, s := range n.Sigs {
			fmt.Println(s.Name)
		}
		return
	}
	if len(os.Args) < 5 || os.Args[1] != "witness" {
		fail("usage: c2sp witness LISTEN NAME SEED_HEX ORIGIN=VKEY... | c2sp open VKEY < NOTE")
	}
	listen, name := os.Args[2], os.Args[3]
	seed, err := hex.DecodeString(os.Args[4])
	if err != nil || len(seed) != 32 {
		fail("seed: 32 bytes of hex")
	}
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	keyID := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
	logs := map[string]note.Verifier{}
	for _, arg := range os.Args[5:] {
		origin, vkey, ok := strings.Cut(arg, "=")
		v, err := note.NewVerifier(vkey)
		if !ok || err != nil {
			fail("log %q: %v", arg, err)
		}
		logs[origin] = v
	}
	fmt.Printf("%s+%x+%s\n", name, keyID[:4], base64.StdEncoding.EncodeToString(append([]byte{4}, pub...)))
	os.Stdout.Sync()

	var mu sync.Mutex
	witnessed := map[string]state{}
	http.HandleFunc("/add-checkpoint", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		head, signed, ok := bytes.Cut(body, []byte("\n\n"))
		lines := strings.Split(string(head), "\n")
		if !ok || !strings.HasPrefix(lines[0], "old ") {
			http.Error(w, "malformed request", 400)
			return
		}
		old, err := strconv.ParseInt(strings.TrimPrefix(lines[0], "old "), 10, 64)
		if err != nil {
			http.Error(w, "malformed old size", 400)
			return
		}
		var proof tlog.TreeProof
		for _, l := range lines[1:] {
			h, err := tlog.ParseHash(l)
			if err != nil {
				http.Error(w, "malformed proof", 400)
				return
			}
			proof = append(proof, h)
		}
		origin, _, _ := strings.Cut(string(signed), "\n")
		v, known := logs[origin]
		if !known {
			http.Error(w, "unknown origin", 404)
			return
		}
		n, err := note.Open(signed, note.VerifierList(v))
		if err != nil {
			http.Error(w, "bad signature: "+err.Error(), 403)
			return
		}
		text := strings.Split(n.Text, "\n")
		size, err1 := strconv.ParseInt(text[1], 10, 64)
		root, err2 := tlog.ParseHash(text[2])
		if len(text) < 4 || err1 != nil || err2 != nil {
			http.Error(w, "malformed checkpoint", 400)
			return
		}
		if old > size {
			http.Error(w, "old size beyond the checkpoint", 400)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		cur := witnessed[origin]
		if old != cur.size {
			w.Header().Set("Content-Type", "text/x.tlog.size")
			w.WriteHeader(409)
			fmt.Fprintf(w, "%d\n", cur.size)
			return
		}
		switch {
		case old == 0 && len(proof) != 0:
			http.Error(w, "old 0 needs an empty proof", 422)
			return
		case old > 0 && old == size && (root != cur.hash || len(proof) != 0):
			http.Error(w, "same size, other root", 422)
			return
		case old > 0 && old < size:
			if err := tlog.CheckTree(proof, size, root, old, cur.hash); err != nil {
				http.Error(w, "consistency: "+err.Error(), 422)
				return
			}
		}
		witnessed[origin] = state{size, root}
		t := uint64(time.Now().Unix())
		msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", t, n.Text)
		sig := make([]byte, 0, 76)
		sig = append(sig, keyID[:4]...)
		sig = binary.BigEndian.AppendUint64(sig, t)
		sig = append(sig, ed25519.Sign(priv, []byte(msg))...)
		fmt.Fprintf(w, "\u2014 %s %s\n", name, base64.StdEncoding.EncodeToString(sig))
	})
	if err := http.ListenAndServe(listen, nil); err != nil {
		fail("%v", err)
	}
}

func fail(f string, a ...any) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(1)
}
