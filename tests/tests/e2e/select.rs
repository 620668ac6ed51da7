//! The library's set operations against a real 3-instance fleet, as a
//! library user reaches them: `Selection` over a snapshot, a `Batch` on
//! the chosen servers, `wait_sessions`, and `differences`.

use haproxy_admin::{HAProxy, ObjectKind, ObjectRef, Selection, SortKey, State};
use haproxy_e2e::{Fleet, Options, Topology};
use std::time::Duration;

fn fleet() -> (Fleet, HAProxy) {
    let f = Fleet::start(Options {
        instances: 3,
        topology: Topology::large(2, 3, 0),
        ..Options::default()
    });
    let hap = HAProxy::from_dir(f.socket_dir()).expect("the fleet");
    assert_eq!(hap.processes().len(), 3);
    (f, hap)
}

#[test]
fn a_selection_drives_a_batch_and_a_wait_and_differences_see_a_change_behind_its_back() {
    let (f, hap) = fleet();
    for i in f.instances() {
        assert!(i.raw("set weight be_1/s2 7").trim().is_empty());
    }
    let snap = hap.snapshot().expect("snapshot");
    let sel = Selection::new()
        .pattern("*/s[12]".parse().expect("pattern"))
        .predicate("weight<5".parse().expect("predicate"));
    let mut chosen = snap.stat_objects(ObjectKind::Server);
    chosen.retain(|o| sel.matches(o));
    haproxy_admin::sort_objects(
        &mut chosen,
        &SortKey::parse_list("-backend,name").expect("keys"),
    );
    let refs: Vec<ObjectRef> = chosen.iter().map(ObjectRef::of).collect();
    let names: Vec<String> = refs.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["be_1/s1", "be_0/s1", "be_0/s2"]);

    let mut batch = hap.batch();
    for o in &refs {
        batch.push(
            haproxy_admin::Command::set_server_state(&o.proxy, &o.name, State::Drain)
                .expect("queue"),
        );
    }
    batch.run().expect("drain");
    for i in f.instances() {
        let st = i.raw("show stat -1 4 -1");
        for n in &names {
            let (b, s) = n.split_once('/').expect("b/s");
            let line = st
                .lines()
                .find(|l| l.starts_with(&format!("{b},{s},")))
                .expect("server line");
            assert!(line.contains(",DRAIN,"), "pid {}: {line}", i.pid);
        }
    }
    let mut polls = 0;
    let left = hap
        .wait_sessions(
            &refs,
            0,
            Duration::from_secs(5),
            Duration::from_millis(50),
            |_| {
                polls += 1;
            },
        )
        .expect("wait");
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(polls, 1, "nothing to wait for: one poll");

    assert_eq!(
        hap.differences(&hap.snapshot().expect("snap"))
            .expect("check"),
        []
    );
    let odd = &f.instances()[0];
    assert!(odd.raw("set weight be_0/s0 9").trim().is_empty());
    let diffs = hap
        .differences(&hap.snapshot().expect("snap"))
        .expect("check");
    let weight = diffs
        .iter()
        .find(|d| d.object == "server be_0/s0" && d.field == "weight")
        .unwrap_or_else(|| panic!("{diffs:?}"));
    for (p, v) in &weight.values {
        let want = if p.pid == odd.pid { "9" } else { "1" };
        assert_eq!(v.as_deref(), Some(want), "{weight}");
    }
    assert_eq!(weight.values.len(), 3);

    // A server that is gone is an error of the wait, not a success.
    let gone = ObjectRef {
        kind: ObjectKind::Server,
        proxy: "be_0".to_owned(),
        name: "nope".to_owned(),
    };
    let e = hap
        .wait_sessions(
            &[gone],
            0,
            Duration::from_secs(1),
            Duration::from_millis(50),
            |_| {},
        )
        .expect_err("no such server");
    assert!(e.to_string().contains("nope"), "{e}");
}
