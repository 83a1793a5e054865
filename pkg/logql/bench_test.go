package logql

import (
	"testing"

	"github.com/activityaudit/activityaudit/pkg/filter"
)

// tenTerms is a 10-term filter over every Loki role.
const tenTerms = `namespace="shop" namespace="web" workload!~"core.*" pod="woocommerce-6877958-x2b4q" container!="istio-proxy" ` +
	`comm="curl" comm="wget" cmdline=~"curl .*http.*" uid!="0" source_addresses!="172.20.41.2"`

func BenchmarkParseAndCompile10Terms(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		f, err := filter.Parse(tenTerms)
		if err != nil {
			b.Fatal(err)
		}
		_, err = Events(Scope{Filter: f}, from, to, 100)
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParse10Terms(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := filter.Parse(tenTerms); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile10Terms(b *testing.B) {
	f := filter.MustParse(tenTerms)
	b.ReportAllocs()
	for b.Loop() {
		_ = Stream(Scope{Filter: f})
	}
}
