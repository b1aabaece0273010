//! `parley bench` at tiny sizes: every section runs against real nodes
//! and reports figures that hang together.

mod net;

use net::json;

#[test]
fn bench_measures_every_section_and_the_figures_hang_together() {
    let args = vec![
        "bench",
        "--hardware-secs",
        "0.05",
        "--append-entries",
        "20",
        "--batched-entries",
        "2000",
        "--audit-entries",
        "200",
        "--loads",
        "50",
        "--load-secs",
        "0.5",
        "--saturation-messages",
        "60",
        "--concurrency",
        "4",
        "--catchup-entries",
        "1500",
        "--footprint-entries",
        "3000",
    ];
    let r = json(&args);
    let hw = &r["hardware"];
    for k in [
        "sha256_mb_per_s",
        "ed25519_signs_per_s",
        "ed25519_verifies_per_s",
        "ed25519_batch_verifies_per_s",
    ] {
        assert!(hw[k].as_f64().unwrap() > 0.0, "{k}: {hw}");
    }
    let log = &r["log"];
    assert_eq!(log["audit_entries"], 200);
    assert_eq!(
        log["audit_signatures"], 600,
        "a checkpoint and two cosignatures per entry"
    );
    // A figure, not a timing assertion: a 0.05 s sample on a loaded
    // machine can be anything, so only its presence is checked here.
    for k in [
        "audit_fraction_of_bound",
        "audit_fraction_of_batch_bound",
        "idle_commit_p50_ms",
    ] {
        let f = log[k].as_f64().unwrap();
        assert!(f.is_finite() && f > 0.0, "{k}: {f}");
    }
    assert!(log["audit_cores"].as_u64().unwrap() >= 1);
    for variant in ["direct", "with_witness"] {
        let loads = r["network"][variant].as_array().unwrap();
        assert_eq!(loads.len(), 2, "one offered load and saturation");
        assert_eq!(loads[0]["messages"], 25, "50 msg/s for 0.5 s");
        assert_eq!(loads[1]["messages"], 60);
        for l in loads {
            let (p50, p99, max) = (
                l["p50_ms"].as_f64().unwrap(),
                l["p99_ms"].as_f64().unwrap(),
                l["max_ms"].as_f64().unwrap(),
            );
            assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{l}");
            // Where the CPU went (in 10 ms ticks, so a short load may
            // show none; the sum over every load below may not).
            let cpu = &l["cpu_us_per_message"];
            for p in ["nato", "russia", "osce", "bench"] {
                assert!(cpu[p].as_f64().unwrap() >= 0.0, "{l}");
            }
        }
    }
    let nato_cpu: f64 = ["direct", "with_witness"]
        .iter()
        .flat_map(|v| r["network"][v].as_array().unwrap())
        .map(|l| l["cpu_us_per_message"]["nato"].as_f64().unwrap())
        .sum();
    assert!(
        nato_cpu > 0.0,
        "the author's node did the work of 170 messages"
    );
    assert_eq!(r["catch_up"]["entries"], 1500);
    let foot = &r["footprint"];
    assert_eq!(foot["large_entries"], 3000);
    assert!(foot["idle_rss_bytes"].as_u64().unwrap() > 1 << 20);
    let per_entry = foot["author_db_bytes_per_entry"].as_f64().unwrap();
    assert!(
        per_entry > 100.0 && per_entry < 10_000.0,
        "{per_entry} bytes per entry"
    );
    // The peer: NATS from PyPI in a throwaway virtualenv, twice (its
    // default and sync_interval: always); without PyPI, a note says why.
    let peers = r["peers"].as_array().unwrap();
    let measured: Vec<&serde_json::Value> =
        peers.iter().filter(|p| p["status"] == "measured").collect();
    if measured.is_empty() {
        let why = peers[0]["note"].as_str().unwrap_or_default().to_string();
        assert!(!why.is_empty(), "a peer not measured says why: {peers:?}");
        net::cannot_run("nats", &why);
    }
    for p in &measured {
        assert_eq!(p["loads"].as_array().unwrap().len(), 2, "{p}");
        assert!(p["durability"].as_str().unwrap().contains("fsync"), "{p}");
    }
    if measured
        .iter()
        .any(|p| p["version"].as_str().unwrap().contains("v2.15"))
    {
        let setups: Vec<&str> = measured
            .iter()
            .map(|p| p["setup"].as_str().unwrap())
            .collect();
        assert_eq!(
            setups,
            ["default", "sync_always"],
            "both, like for like last"
        );
    }
    // Matrix: two Synapse homeservers from PyPI federating over TLS, at
    // 1 msg/s and the offered load up to 100, and at saturation. Without
    // PyPI a note says why; a Synapse that installed but failed to run is
    // the bench's failure.
    let matrix = &r["matrix"];
    if matrix["status"] == "missing" {
        let why = matrix["note"].as_str().unwrap_or_default().to_string();
        assert!(why.starts_with("could not install"), "{matrix}");
        net::cannot_run("matrix", &why);
    } else {
        assert!(
            matrix["delivery"].as_str().unwrap().contains("/sync"),
            "{matrix}"
        );
        let loads = matrix["loads"].as_array().unwrap();
        let labels: Vec<&str> = loads.iter().map(|l| l["load"].as_str().unwrap()).collect();
        assert_eq!(
            labels,
            [
                "1 msg/s offered",
                "50 msg/s offered",
                "saturation (4 senders)"
            ],
            "{matrix}"
        );
        for (l, sent) in loads.iter().zip([1, 25, 60]) {
            assert_eq!(l["sent"], sent, "{l}");
            let delivered = l["messages"].as_u64().unwrap();
            assert_eq!(delivered + l["undelivered"].as_u64().unwrap(), sent, "{l}");
            if delivered > 0 {
                let (p50, p99, max) = (
                    l["p50_ms"].as_f64().unwrap(),
                    l["p99_ms"].as_f64().unwrap(),
                    l["max_ms"].as_f64().unwrap(),
                );
                assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{l}");
            }
        }
        // parley's like-for-like figure beside it: send → the receiving
        // node's event stream.
        let direct = r["network"]["direct"].as_array().unwrap();
        let at = &direct[0]["at_receiver"];
        assert!(at["p50_ms"].as_f64().unwrap() > 0.0, "{}", direct[0]);
    }
    println!(
        "bench at tiny sizes: {} s, peers {:?}",
        r["seconds"],
        peers.iter().map(|p| p["setup"].clone()).collect::<Vec<_>>()
    );
}
