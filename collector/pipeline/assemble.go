package pipeline

import (
	"github.com/activityaudit/activityaudit/collector/container"
	"github.com/activityaudit/activityaudit/collector/event"
	"github.com/activityaudit/activityaudit/collector/proctable"
	"github.com/activityaudit/activityaudit/pkg/field"
	"github.com/activityaudit/activityaudit/pkg/record"
)

// cmdRecord builds the record of an exec.
func (p *Pipeline) cmdRecord(e *event.Exec, proc proctable.Process) record.Record {
	r := p.base(field.Cmd, e.Time, e.CgroupID)
	r.Comm, r.Exe, r.Cwd = proc.Comm, proc.Exe, proc.Cwd
	r.Cmdline = record.CommandLine(e.Args, e.ArgsTruncated)
	r.PID, r.PPID = uint64(proc.TGID), uint64(proc.PPID)
	r.UID, r.GID, r.LoginUID = uint64(proc.UID), uint64(proc.GID), uint64(proc.LoginUID)
	r.User = p.users.Name(proc.TGID, r.ContainerID, proc.UID, func() uint32 {
		init, _ := p.table.ContainerInit(proc.PidNS, proc.CgroupID)
		return init
	})
	r.TTY = proc.TTY
	r.ShellID, r.ShellDistance = uint64(proc.ShellID), uint64(proc.ShellDistance)
	r.ExecID, r.ParentExecID = proc.ExecID, proc.ParentExecID
	r.Session, r.SessionEntry = proc.Session, proc.SessionEntry
	if proc.Session != "" {
		// KEP-6035: the API server's audit id, passed to the exec'd process:
		// ties the session to its kube exec exactly.
		r.AuditID = proc.ExecAuditID
	}
	return r
}

// netRecord builds the record of a connection, attributed to its process.
func (p *Pipeline) netRecord(c *event.Conn) record.Record {
	r := p.base(field.Net, c.Time, c.CgroupID)
	r.Comm, r.PID = c.Comm, uint64(c.TGID)
	if proc, ok := p.table.Lookup(c.TGID, c.StartTime); ok {
		r.Comm, r.Exe = proc.Comm, proc.Exe
		r.PPID = uint64(proc.PPID)
		r.ExecID, r.ParentExecID = proc.ExecID, proc.ParentExecID
		r.Session = proc.Session
	}
	r.L4Proto = c.Proto
	local, remote := c.Local, c.Remote
	if c.Op == event.OpAccept {
		r.Direction = "in"
		r.ClientIP, r.ClientPort = remote.Addr().String(), uint64(remote.Port())
		r.ServerIP, r.ServerPort = local.Addr().String(), uint64(local.Port())
	} else {
		r.Direction = "out"
		r.ClientIP, r.ClientPort = local.Addr().String(), uint64(local.Port())
		r.ServerIP, r.ServerPort = remote.Addr().String(), uint64(remote.Port())
	}
	if c.Result != 0 {
		r.Result = errnoName(c.Result)
	}
	return r
}

// base fills what every record of this node has: time, source, node and
// container scope.
func (p *Pipeline) base(src field.Source, bootNs uint64, cgroupID uint64) record.Record {
	r := record.Record{
		Time:    p.clock.wall(bootNs),
		Source:  src,
		Cluster: p.cfg.Cluster,
		Host:    p.cfg.Host.Host,
		HostMAC: p.cfg.Host.MAC,
	}
	if p.containers != nil && cgroupID != 0 {
		if info, ok := p.containers.Container(cgroupID); ok {
			r.ContainerID = info.ID
		}
	}
	return r
}

// Containers resolves a cgroup id to its container; *container.Resolver is one.
type Containers interface {
	Container(cgroupID uint64) (container.Info, bool)
}
