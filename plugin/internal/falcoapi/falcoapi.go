// Package falcoapi calls a Falco plugin (.so) through its C API as Falco
// does: dlopen, plugin_init, plugin_open, plugin_next_batch,
// plugin_extract_fields, plugin_close, plugin_destroy. The SDK's loader
// (plugin-sdk-go pkg/loader) validates a plugin and initializes it, but has
// no calls for opening, reading or extracting; tests use this package for
// those.
//
// Only the parts of the plugin API structs that a caller fills are declared
// here (plugin API 3.x, plugin_api.h); the rest of each input struct is
// left zeroed in C memory, which the API reads as "not provided". Every
// struct handed to the plugin lives in C memory, as cgo's pointer rules
// require.
package falcoapi

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ss_plugin_event: the scap event header, packed (26 bytes).
#pragma pack(push, 1)
typedef struct {
	uint64_t ts;
	uint64_t tid;
	uint32_t len;
	uint16_t type;
	uint32_t nparams;
} fa_event;
#pragma pack(pop)

typedef struct {
	const fa_event *evt;
	uint64_t evtnum;
	const char *evtsrc;
} fa_event_input;

// The leading members of ss_plugin_init_input; the rest stays zero.
typedef struct {
	const char *config;
} fa_init_input;

typedef struct {
	union {
		const char **str;
		uint64_t *u64;
		uint32_t *u32;
		void *ptr;
	} res;
	uint64_t res_len;
	uint32_t field_id;
	const char *field;
	const char *arg_key;
	uint64_t arg_index;
	uint32_t arg_present;
	uint32_t ftype;
	uint32_t flist;
} fa_extract_field;

// The leading members of ss_plugin_field_extract_input; the rest (table
// readers, value offsets) stays zero.
typedef struct {
	void *owner;
	void *get_owner_last_error;
	uint32_t num_fields;
	fa_extract_field *fields;
} fa_extract_input;

// Room for the members of ss_plugin_field_extract_input and
// ss_plugin_init_input that are not declared above.
#define FA_INPUT_BYTES 1024

typedef void *(*fa_init_fn)(const fa_init_input *, int32_t *);
typedef void (*fa_destroy_fn)(void *);
typedef const char *(*fa_last_error_fn)(void *);
typedef void *(*fa_open_fn)(void *, const char *, int32_t *);
typedef void (*fa_close_fn)(void *, void *);
typedef int32_t (*fa_next_batch_fn)(void *, void *, uint32_t *, fa_event ***);
typedef int32_t (*fa_extract_fn)(void *, const fa_event_input *, const fa_extract_input *);
typedef const char *(*fa_string_fn)(void);

typedef struct {
	void *handle;
	fa_init_fn init;
	fa_destroy_fn destroy;
	fa_last_error_fn last_error;
	fa_open_fn open;
	fa_close_fn close;
	fa_next_batch_fn next_batch;
	fa_extract_fn extract;
	fa_string_fn get_fields;
} fa_lib;

static const char *fa_load(const char *path, fa_lib *lib) {
	memset(lib, 0, sizeof(*lib));
	lib->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib->handle) return dlerror();
	lib->init = (fa_init_fn)dlsym(lib->handle, "plugin_init");
	lib->destroy = (fa_destroy_fn)dlsym(lib->handle, "plugin_destroy");
	lib->last_error = (fa_last_error_fn)dlsym(lib->handle, "plugin_get_last_error");
	lib->open = (fa_open_fn)dlsym(lib->handle, "plugin_open");
	lib->close = (fa_close_fn)dlsym(lib->handle, "plugin_close");
	lib->next_batch = (fa_next_batch_fn)dlsym(lib->handle, "plugin_next_batch");
	lib->extract = (fa_extract_fn)dlsym(lib->handle, "plugin_extract_fields");
	lib->get_fields = (fa_string_fn)dlsym(lib->handle, "plugin_get_fields");
	if (!lib->init || !lib->destroy || !lib->last_error || !lib->open || !lib->close ||
	    !lib->next_batch || !lib->extract || !lib->get_fields) {
		return "a plugin API symbol is missing";
	}
	return NULL;
}

// Plugin states and instances are opaque handles: Go's plugin SDK makes
// them small integers, so Go holds them as uintptr_t, never as pointers.
static uintptr_t fa_init(fa_lib *lib, const char *config, int32_t *rc) {
	fa_init_input *in = calloc(1, FA_INPUT_BYTES);
	in->config = config;
	void *s = lib->init(in, rc);
	free(in);
	return (uintptr_t)s;
}

static void fa_destroy(fa_lib *lib, uintptr_t s) { lib->destroy((void *)s); }
static const char *fa_last_error(fa_lib *lib, uintptr_t s) { return lib->last_error((void *)s); }
static uintptr_t fa_open(fa_lib *lib, uintptr_t s, const char *params, int32_t *rc) {
	return (uintptr_t)lib->open((void *)s, params, rc);
}
static void fa_close(fa_lib *lib, uintptr_t s, uintptr_t h) { lib->close((void *)s, (void *)h); }
// fa_batch holds what plugin_next_batch returns, in C memory.
typedef struct {
	uint32_t n;
	fa_event **evts;
} fa_batch;

static int32_t fa_next_batch(fa_lib *lib, uintptr_t s, uintptr_t h, fa_batch *out) {
	out->n = 0;
	out->evts = NULL;
	return lib->next_batch((void *)s, (void *)h, &out->n, &out->evts);
}
static int32_t fa_extract(fa_lib *lib, uintptr_t s, const fa_event_input *evt, const fa_extract_input *in) {
	return lib->extract((void *)s, evt, in);
}
static const char *fa_get_fields(fa_lib *lib) { return lib->get_fields(); }

static fa_event *fa_event_at(fa_event **evts, uint32_t i) { return evts[i]; }
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Return codes of the plugin API (ss_plugin_rc).
const (
	Success = 0
	Failure = 1
	Timeout = -1
	EOF     = 2
)

// Field types of the plugin API (ss_plugin_field_type).
const (
	TypeUint64 = 8
	TypeString = 9
	TypeBool   = 25
)

// PluginEventType is the scap event type of plugin events.
const PluginEventType = 322

// headerSize is the scap event header, then two parameter lengths and the
// plugin id precede the payload of a plugin event.
const (
	headerSize    = 26
	payloadOffset = headerSize + 4 + 4 + 4
)

// Library is a plugin shared library opened with dlopen.
type Library struct {
	lib *C.fa_lib
}

// Load opens a plugin library.
func Load(path string) (*Library, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	lib := (*C.fa_lib)(C.calloc(1, C.sizeof_fa_lib))
	if msg := C.fa_load(cpath, lib); msg != nil {
		err := fmt.Errorf("load plugin %s: %s", path, C.GoString(msg))
		C.free(unsafe.Pointer(lib))
		return nil, err
	}
	return &Library{lib: lib}, nil
}

// Fields is what plugin_get_fields returns (JSON).
func (l *Library) Fields() string { return C.GoString(C.fa_get_fields(l.lib)) }

// Plugin is an initialized plugin state.
type Plugin struct {
	l *Library
	s C.uintptr_t
}

// Init calls plugin_init; a failure carries the plugin's last error.
func (l *Library) Init(config string) (*Plugin, error) {
	cfg := C.CString(config)
	defer C.free(unsafe.Pointer(cfg))
	var rc C.int32_t
	s := C.fa_init(l.lib, cfg, &rc)
	if rc != Success {
		msg := "no state"
		if s != 0 {
			msg = C.GoString(C.fa_last_error(l.lib, s))
			C.fa_destroy(l.lib, s)
		}
		return nil, fmt.Errorf("init plugin: rc %d: %s", rc, msg)
	}
	return &Plugin{l: l, s: s}, nil
}

// Destroy calls plugin_destroy.
func (p *Plugin) Destroy() {
	if p.s != 0 {
		C.fa_destroy(p.l.lib, p.s)
		p.s = 0
	}
}

// LastError is plugin_get_last_error.
func (p *Plugin) LastError() string { return C.GoString(C.fa_last_error(p.l.lib, p.s)) }

// Instance is an open event source.
type Instance struct {
	p     *Plugin
	h     C.uintptr_t
	batch *C.fa_batch
}

// Open calls plugin_open.
func (p *Plugin) Open(params string) (*Instance, error) {
	cp := C.CString(params)
	defer C.free(unsafe.Pointer(cp))
	var rc C.int32_t
	h := C.fa_open(p.l.lib, p.s, cp, &rc)
	if rc != Success {
		return nil, fmt.Errorf("open plugin: rc %d: %s", rc, p.LastError())
	}
	return &Instance{p: p, h: h, batch: (*C.fa_batch)(C.calloc(1, C.sizeof_fa_batch))}, nil
}

// Close calls plugin_close.
func (i *Instance) Close() {
	if i.batch != nil {
		C.fa_close(i.p.l.lib, i.p.s, i.h)
		C.free(unsafe.Pointer(i.batch))
		i.h, i.batch = 0, nil
	}
}

// Batch is what one plugin_next_batch returned. Its events live in the
// plugin's memory until the next call.
type Batch struct {
	n    int
	evts *C.fa_batch
}

// Len is the number of events.
func (b Batch) Len() int { return b.n }

// Event copies event i out of the plugin's memory.
func (b Batch) Event(i int) Event {
	e := C.fa_event_at(b.evts.evts, C.uint32_t(i))
	raw := C.GoBytes(unsafe.Pointer(e), C.int(e.len))
	return Event{Raw: raw}
}

// NextBatch calls plugin_next_batch and returns the batch and the return
// code; a failure is an error with the plugin's last error.
func (i *Instance) NextBatch() (Batch, int, error) {
	rc := int(C.fa_next_batch(i.p.l.lib, i.p.s, i.h, i.batch))
	if rc == Failure {
		return Batch{}, rc, fmt.Errorf("next batch: %s", i.p.LastError())
	}
	return Batch{n: int(i.batch.n), evts: i.batch}, rc, nil
}

// Event is a plugin event as Falco stores it: header, parameter lengths,
// plugin id, payload.
type Event struct {
	Raw []byte
}

// NewEvent builds a plugin event, as Falco hands another plugin's event
// (for example the k8s_audit plugin's, id 1) to an extractor.
func NewEvent(pluginID uint32, ts uint64, payload []byte) Event {
	raw := make([]byte, payloadOffset+len(payload))
	binary.LittleEndian.PutUint64(raw[0:], ts)
	binary.LittleEndian.PutUint64(raw[8:], ^uint64(0))
	binary.LittleEndian.PutUint32(raw[16:], uint32(len(raw)))
	binary.LittleEndian.PutUint16(raw[20:], PluginEventType)
	binary.LittleEndian.PutUint32(raw[22:], 2)
	binary.LittleEndian.PutUint32(raw[headerSize:], 4)
	binary.LittleEndian.PutUint32(raw[headerSize+4:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(raw[headerSize+8:], pluginID)
	copy(raw[payloadOffset:], payload)
	return Event{Raw: raw}
}

// Timestamp is the event time (ns).
func (e Event) Timestamp() uint64 { return binary.LittleEndian.Uint64(e.Raw[0:]) }

// Type is the scap event type.
func (e Event) Type() uint16 { return binary.LittleEndian.Uint16(e.Raw[20:]) }

// PluginID is the id in the event (0 until Falco fills in the source's).
func (e Event) PluginID() uint32 { return binary.LittleEndian.Uint32(e.Raw[headerSize+8:]) }

// Payload is the event's data.
func (e Event) Payload() []byte {
	n := binary.LittleEndian.Uint32(e.Raw[headerSize+4:])
	return e.Raw[payloadOffset : payloadOffset+int(n)]
}

// Field names a field to extract: its id (its index in the plugin's
// fields), name and type.
type Field struct {
	ID   uint32
	Name string
	Type uint32
}

// Value is an extracted value; Present is false when the plugin set none.
type Value struct {
	Present bool
	Str     string
	U64     uint64
	Bool    bool
}

// Extractor extracts a fixed list of fields, keeping its request structs in
// C memory between calls.
type Extractor struct {
	p      *Plugin
	n      int
	fields *C.fa_extract_field
	in     *C.fa_extract_input
	evtIn  *C.fa_event_input
	src    *C.char
	names  []*C.char
	types  []uint32
	buf    unsafe.Pointer // an event copied into C memory
	bufLen int
	values []Value
}

// NewExtractor prepares extraction of fields from events of source.
func (p *Plugin) NewExtractor(source string, fields []Field) *Extractor {
	x := &Extractor{p: p, n: len(fields), values: make([]Value, len(fields))}
	x.fields = (*C.fa_extract_field)(C.calloc(C.size_t(max(1, len(fields))), C.sizeof_fa_extract_field))
	x.in = (*C.fa_extract_input)(C.calloc(1, C.FA_INPUT_BYTES))
	x.evtIn = (*C.fa_event_input)(C.calloc(1, C.sizeof_fa_event_input))
	x.src = C.CString(source)
	x.evtIn.evtsrc = x.src
	x.in.num_fields = C.uint32_t(len(fields))
	x.in.fields = x.fields
	fs := unsafe.Slice(x.fields, max(1, len(fields)))
	for i, f := range fields {
		name := C.CString(f.Name)
		x.names = append(x.names, name)
		x.types = append(x.types, f.Type)
		fs[i].field_id = C.uint32_t(f.ID)
		fs[i].field = name
		fs[i].ftype = C.uint32_t(f.Type)
	}
	return x
}

// Free releases the C memory.
func (x *Extractor) Free() {
	for _, n := range x.names {
		C.free(unsafe.Pointer(n))
	}
	C.free(unsafe.Pointer(x.fields))
	C.free(unsafe.Pointer(x.in))
	C.free(unsafe.Pointer(x.evtIn))
	C.free(unsafe.Pointer(x.src))
	if x.buf != nil {
		C.free(x.buf)
	}
}

// Extract copies e into C memory and extracts the fields from it, as event
// number num. The returned slice is reused by the next call.
func (x *Extractor) Extract(e Event, num uint64) ([]Value, error) {
	if len(e.Raw) > x.bufLen {
		if x.buf != nil {
			C.free(x.buf)
		}
		x.buf = C.malloc(C.size_t(len(e.Raw)))
		x.bufLen = len(e.Raw)
	}
	copy(unsafe.Slice((*byte)(x.buf), len(e.Raw)), e.Raw)
	return x.extract((*C.fa_event)(x.buf), num)
}

// ExtractBatch extracts the fields from event i of a batch in place, as
// Falco does, without copying it.
func (x *Extractor) ExtractBatch(b Batch, i int, num uint64) ([]Value, error) {
	if i < 0 || i >= b.n {
		return nil, fmt.Errorf("extract: event %d of a batch of %d", i, b.n)
	}
	return x.extract(C.fa_event_at(b.evts.evts, C.uint32_t(i)), num)
}

func (x *Extractor) extract(evt *C.fa_event, num uint64) ([]Value, error) {
	x.evtIn.evt = evt
	x.evtIn.evtnum = C.uint64_t(num)
	fs := unsafe.Slice(x.fields, max(1, x.n))
	for i := range x.n {
		fs[i].res_len = 0
	}
	if rc := C.fa_extract(x.p.l.lib, x.p.s, x.evtIn, x.in); rc != Success {
		return nil, fmt.Errorf("extract fields: rc %d: %s", rc, x.p.LastError())
	}
	for i := range x.n {
		v := Value{}
		if fs[i].res_len > 0 {
			v.Present = true
			res := *(*unsafe.Pointer)(unsafe.Pointer(&fs[i].res))
			switch x.types[i] {
			case TypeString:
				v.Str = C.GoString(*(**C.char)(res))
			case TypeUint64:
				v.U64 = uint64(*(*C.uint64_t)(res))
			case TypeBool:
				v.Bool = *(*C.uint32_t)(res) != 0
			default:
				return nil, errors.New("extract fields: unsupported field type")
			}
		}
		x.values[i] = v
	}
	return x.values, nil
}
