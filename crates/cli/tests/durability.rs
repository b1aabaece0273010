//! A receipt leaves a node only after the entries it covers are on disk:
//! shown by the system calls of a receiving node, traced with strace.
//! (A SIGKILL keeps the page cache, so killing a node cannot show this.)
//! The nodes speak plain HTTP here, so the trace can show which writes
//! carry a receipt.

mod net;

use net::{Net, cannot_run, json, open_channel, wait_until};

#[test]
fn every_receipt_leaves_after_an_fsync_of_what_it_covers() {
    let has_strace = std::process::Command::new("strace")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_strace {
        cannot_run("strace", "strace is not installed (apt-get install strace)");
        return;
    }
    let mut net = Net::new(&["nato", "russia", "osce"]);
    for p in &net.parties {
        p.configure("[federation]", "[federation]\nplaintext = true");
    }
    for a in &net.parties {
        for b in net.parties.iter().filter(|b| b.name != a.name) {
            a.repin(b, &format!("http://127.0.0.1:{}", b.port));
        }
    }
    let trace = net.path("russia.strace");
    let trace_arg = trace.to_str().unwrap().to_string();
    net.p("nato").start();
    net.p("osce").start();
    net.p("russia").start_under(&[
        "strace",
        "-f",
        "-qq",
        "-s",
        "200",
        "-e",
        "trace=fsync,fdatasync,write,writev,sendto,sendmsg",
        "-o",
        &trace_arg,
    ]);
    open_channel(&net);
    for i in 0..5 {
        net.get("nato")
            .send_text("nato.mil", &format!("durable {i}"));
    }
    let n = net.get("nato").feed_size("nato.mil", "nato");
    wait_until(30, "russia's receipt of every message", || {
        json(&[
            "show",
            "--dir",
            net.get("nato").d(),
            &format!("nato.mil/nato/{}", n - 1),
        ])["delivery"][0]["delivered_at"]
            .is_i64()
    });
    let text = std::fs::read_to_string(&trace).unwrap();
    // The node's own process (strace's first traced pid), killed so that
    // strace ends too.
    let pid = text.split_whitespace().next().unwrap().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &pid])
        .status();
    net.p("russia").kill();

    // In order: each write that carries a receipt (a push's answer, or a
    // receipt sent after catch-up) must follow a sync made since the
    // previous one.
    let (mut synced, mut receipts, mut syncs) = (false, 0, 0);
    for line in text.lines() {
        if line.contains("fdatasync(") || line.contains(" fsync(") {
            if !line.contains("= -1") {
                synced = true;
                syncs += 1;
            }
        } else if line.contains(r#"\"cosignature\":\""#) {
            assert!(
                synced,
                "a receipt left with nothing synced since the last one:\n{line}"
            );
            synced = false;
            receipts += 1;
        }
    }
    println!(
        "durability: {receipts} receipts written by russia, each after an fsync ({syncs} syncs in all)"
    );
    assert!(
        receipts >= 2,
        "the trace shows receipts ({receipts}):\n{}",
        &text[..text.len().min(4000)]
    );
}
