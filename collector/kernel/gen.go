package kernel

// The BPF objects, compiled from bpf/*.c against the committed
// bpf/vmlinux.h (CO-RE: field offsets are relocated against the running
// kernel's BTF at load). One object per concern; they share the ring
// buffer and drop counters, which the loader creates once. bpf2go
// generates the Go mirrors of the record structs (-type) from the
// objects' BTF. -mcpu=v3 (32-bit jumps and ALU, 5.1+) keeps bounds in
// 32-bit registers that the verifier can follow.
//
// The test object (test.c) goes to *_test.go/.o: only tests load it.

//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type exec_event execBPF bpf/exec.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type fork_event -type exit_event procBPF bpf/proc.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -type conn_event netBPF bpf/net.c
//go:generate go tool bpf2go -cc clang -cflags "-O2 -g -Wall -Werror -mcpu=v3" -target amd64 -output-suffix _test -type env_test_in -type outcome_test_in -type path_test_in -type wake_test_in -type test_out testBPF bpf/test.c
