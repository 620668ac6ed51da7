//! The harness itself: instances start, answer, and leave nothing behind.

use haproxy_e2e::{pid_alive, Fleet, Level, MasterWorker, Options, Topology};
use std::time::Duration;

#[test]
fn two_instances_answer_and_are_gone_after_drop() {
    let fleet = Fleet::start(Options {
        instances: 2,
        ..Options::default()
    });
    let pids: Vec<u32> = fleet.instances().iter().map(|i| i.pid).collect();
    assert_eq!(pids.len(), 2);
    assert_ne!(pids[0], pids[1]);
    for i in fleet.instances() {
        let info = i.raw("show info");
        assert!(info.contains("Name: HAProxy"), "{info}");
        assert!(info.contains(&format!("\nPid: {}\n", i.pid)), "{info}");
        let stat = i.raw("show stat");
        for name in [
            "fe_http,FRONTEND",
            "be_app,app1",
            "be_static,s2",
            "be_tcp,t1",
        ] {
            assert!(stat.contains(name), "no {name} in\n{stat}");
        }
    }
    let dir = fleet.dir().to_owned();
    drop(fleet);
    for pid in pids {
        assert!(!pid_alive(pid), "haproxy {pid} still runs after drop");
    }
    assert!(!dir.exists(), "{} left behind", dir.display());
}

#[test]
fn a_panicking_test_still_kills_its_instance() {
    let pid = std::sync::Mutex::new(0);
    let result = std::panic::catch_unwind(|| {
        let fleet = Fleet::start(Options::default());
        *pid.lock().expect("lock") = fleet.instances()[0].pid;
        panic!("the test fails");
    });
    assert!(result.is_err());
    let pid = *pid.lock().expect("lock");
    assert_ne!(pid, 0);
    assert!(!pid_alive(pid), "haproxy {pid} survived a panicking test");
}

#[test]
fn extra_sockets_have_their_level_and_tcp_answers() {
    let fleet = Fleet::start(Options {
        extra_sockets: vec![("user".to_owned(), Level::User)],
        tcp_socket: true,
        ..Options::default()
    });
    let i = &fleet.instances()[0];
    let (user, level) = &i.extra_sockets[0];
    assert_eq!(*level, Level::User);
    let refused = haproxy_e2e::raw_unix(user, "set weight be_static/s1 5").expect("user socket");
    assert!(refused.contains("Permission denied"), "{refused}");
    let tcp = i.tcp.expect("tcp socket");
    let mut s = std::net::TcpStream::connect(tcp).expect("connect tcp stats socket");
    use std::io::{Read, Write};
    s.write_all(b"show info\n").expect("write");
    let mut reply = String::new();
    s.read_to_string(&mut reply).expect("read");
    assert!(reply.contains("Name: HAProxy"), "{reply}");
}

#[test]
fn checks_settle_into_the_documented_states() {
    let fleet = Fleet::start(Options::default());
    let i = &fleet.instances()[0];
    Fleet::wait_until(Duration::from_secs(10), "app1 UP, app2 DOWN", || {
        let stat = i.raw("show stat");
        stat.lines()
            .any(|l| l.starts_with("be_app,app1,") && l.contains(",UP,"))
            && stat
                .lines()
                .any(|l| l.starts_with("be_app,app2,") && l.contains(",DOWN,"))
    });
    let stat = i.raw("show stat");
    assert!(
        stat.lines()
            .any(|l| l.starts_with("be_app,app3,") && l.contains(",MAINT,")),
        "{stat}"
    );
    assert!(
        stat.lines()
            .any(|l| l.starts_with("be_app,app6,") && l.contains(",no check,")),
        "{stat}"
    );
}

#[test]
fn master_worker_reloads_and_cleans_up() {
    let mw = MasterWorker::start(Topology::standard());
    let first = mw.worker_pids();
    assert_eq!(first.len(), 1, "{first:?}");
    let routed = mw.raw_master(&format!("@!{} show info", first[0]));
    assert!(
        routed.contains(&format!("\nPid: {}\n", first[0])),
        "{routed}"
    );
    mw.reload();
    let after = mw.worker_pids();
    assert!(
        after.iter().any(|p| !first.contains(p)),
        "{first:?} -> {after:?}"
    );
    let master = mw.master_pid();
    let seen = mw.seen_worker_pids();
    drop(mw);
    assert!(!pid_alive(master), "master {master} still runs");
    haproxy_e2e::wait_until(Duration::from_secs(5), "workers gone", || {
        seen.iter().all(|p| !pid_alive(*p))
    });
}

#[test]
fn large_topology_has_every_server() {
    let fleet = Fleet::start(Options {
        topology: Topology::large(10, 20, 100),
        ..Options::default()
    });
    let stat = fleet.instances()[0].raw("show stat");
    let servers = stat
        .lines()
        .filter(|l| l.starts_with("be_") && !l.contains(",BACKEND,"))
        .count();
    assert_eq!(servers, 200);
    let map = fleet.instances()[0].raw(&format!("show map {}", fleet.map_file().display()));
    assert_eq!(map.lines().filter(|l| l.starts_with("0x")).count(), 100);
}
