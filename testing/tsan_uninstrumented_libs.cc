// Linked into test binaries that talk to a real etcd through the system's
// gRPC. Debian builds gRPC, protobuf and Abseil without ThreadSanitizer, so
// TSan cannot see their synchronization and reports their internals as
// races by the hundred (slowing the run until gRPC misses its deadlines).
// These suppressions drop only reports with a frame inside one of those
// libraries; a race between two of this project's own frames is still
// reported. Without -fsanitize=thread nothing calls this function.
//
// gRPC also starts threads of its own (its resolver's executor, through
// gpr's grpc_core::Thread) and ends them after the channel that needed
// them: one that has finished but was not yet joined when a test binary
// exits is reported as a thread leak, though nothing of this project's
// created it. "thread:libgpr.so" drops only leaks of threads created
// there; a std::thread of ours left unjoined is still reported.
//
// ZooKeeper's C client (libzookeeper_mt) is not instrumented either, and
// formats its log lines' endpoints in one static buffer that every handle
// shares: two handles logging at once (a lease's session and its probe)
// race on it inside the library, which can garble a log line and nothing
// else.

// The name is the sanitizer runtime's hook, reserved or not.
// NOLINTNEXTLINE(bugprone-reserved-identifier)
extern "C" const char* __tsan_default_suppressions() {
  return "race:libgrpc.so\n"
         "race:libgrpc++.so\n"
         "race:libgpr.so\n"
         "race:libupb.so\n"
         "race:libprotobuf.so\n"
         "race:google/protobuf/\n"
         "race:libabsl_\n"
         "race:libcares.so\n"
         "race:libzookeeper_mt.so\n"
         "thread:libgpr.so\n"
         "deadlock:libgrpc.so\n"
         "deadlock:libabsl_\n";
}
