module github.com/activityaudit/activityaudit

go 1.26.8

tool (
	github.com/cilium/ebpf/cmd/bpf2go
	github.com/magefile/mage
)

require github.com/magefile/mage v1.17.2

require (
	github.com/cilium/ebpf v0.22.0 // indirect
	golang.org/x/sys v0.43.0 // indirect
)
