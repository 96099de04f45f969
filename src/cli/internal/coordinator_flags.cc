#include "src/cli/internal/coordinator_flags.h"

#include "CLI/CLI.hpp"

namespace snowflake::cli::internal {

void AddCoordinatorFlags(CLI::App& cmd, ClusterFlags& flags) {
  CLI::Option* etcd = cmd.add_option("--etcd", flags.endpoints,
                                     "etcd client URLs, comma-separated "
                                     "(or --zookeeper)")
                          ->type_name("URL[,URL]")
                          ->delimiter(',');
  cmd.add_option("--zookeeper", flags.zookeeper_hosts,
                 "ZooKeeper ensemble, comma-separated, optionally with a "
                 "chroot (or --etcd)")
      ->type_name("HOST:PORT[,...][/CHROOT]")
      ->excludes(etcd);
  cmd.add_option("--zookeeper-auth", flags.zookeeper_auth,
                 "ZooKeeper digest credentials")
      ->type_name("USER:PASSWORD");
  cmd.add_option("--cluster", flags.cluster, "Cluster name")
      ->type_name("NAME")
      ->capture_default_str();
  cmd.add_option("--prefix,--root", flags.prefix,
                 "Key prefix in etcd, root znode in ZooKeeper")
      ->type_name("P")
      ->capture_default_str();
}

void AddConnectionFlags(CLI::App& cmd, ClusterFlags& flags) {
  cmd.add_option("--ca,--etcd-ca", flags.ca_file,
                 "CA bundle (PEM) that verifies etcd")
      ->type_name("FILE");
  cmd.add_option("--cert,--etcd-cert", flags.cert_file,
                 "Client certificate (PEM)")
      ->type_name("FILE");
  cmd.add_option("--key,--etcd-key", flags.key_file,
                 "Client certificate's key (PEM)")
      ->type_name("FILE");
  cmd.add_option("--user,--etcd-user", flags.user, "etcd user name")
      ->type_name("U");
  cmd.add_option("--password,--etcd-password", flags.password, "etcd password")
      ->type_name("P");
  cmd.add_option("--timeout-ms", flags.timeout_millis,
                 "Deadline of each etcd call on each endpoint; ZooKeeper: to "
                 "connect, and of each call")
      ->type_name("MS")
      ->capture_default_str();
}

}  // namespace snowflake::cli::internal
