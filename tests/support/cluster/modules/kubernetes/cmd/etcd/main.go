// Command etcd runs a one-member etcd for the test cluster, embedded from the etcd server
// module of the version Kubernetes itself requires. It takes the flags of etcd's own
// command that the test cluster passes, so a prebuilt etcd can stand in for it.
package main

import (
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func mustURL(name, raw string) url.URL {
	parsed, err := url.Parse(raw)
	if err != nil || raw == "" {
		log.Fatalf("--%s: a URL is needed, got %q", name, raw)
	}
	return *parsed
}

func main() {
	dataDir := flag.String("data-dir", "", "folder of the member's data")
	listenClient := flag.String("listen-client-urls", "", "the one URL clients use")
	advertiseClient := flag.String("advertise-client-urls", "", "ignored: clients use --listen-client-urls")
	listenPeer := flag.String("listen-peer-urls", "", "the member's peer URL")
	advertisePeer := flag.String("initial-advertise-peer-urls", "", "ignored: the member advertises --listen-peer-urls")
	initialCluster := flag.String("initial-cluster", "", "ignored: the cluster is this one member")
	noFsync := flag.Bool("unsafe-no-fsync", false, "skip fsync (test data only)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()
	_, _, _ = advertiseClient, advertisePeer, initialCluster

	cfg := embed.NewConfig()
	cfg.Dir = *dataDir
	client := mustURL("listen-client-urls", *listenClient)
	peer := mustURL("listen-peer-urls", *listenPeer)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.UnsafeNoFsync = *noFsync
	cfg.LogLevel = *logLevel

	server, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatalf("etcd did not start: %v", err)
	}
	defer server.Close()
	select {
	case <-server.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		server.Server.Stop()
		log.Fatal("etcd was not ready after 60s")
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-stop:
	case err := <-server.Err():
		log.Fatalf("etcd failed: %v", err)
	}
}
