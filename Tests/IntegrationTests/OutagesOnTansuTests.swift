import Foundation
import Kafka
import TestSupport
import XCTest

/// One region pair of its own (two tansu brokers, `payment-events` with 3 partitions) under steady load from
/// `loadgen`, and `regionbridge run` on it with `/metrics` on a free port.
final class OutagePair {
    let mode: String
    let source: TansuBroker
    let target: TansuBroker
    let metricsPort: Int
    private let fixture: BridgeFixture
    private(set) var bridge: BackgroundProcess?
    private(set) var loadgen: BackgroundProcess?

    init(mode: String) throws {
        self.mode = mode
        source = try TansuBroker(name: "us-east-\(mode)")
        target = try TansuBroker(name: "eu-west-\(mode)")
        metricsPort = try freeLoopbackPort()
        try KafkaTestClient(bootstrap: source.bootstrap).createTopic("payment-events", partitions: 3)
        fixture = try BridgeFixture(
            pair: "us-east-to-eu-west-\(mode)", source: source.bootstrap, target: target.bootstrap, include: ["payment-events"], groups: "{include: []}",
            extra: "instances: {mode: \(mode)}\nmetrics: {listen: \"127.0.0.1:\(metricsPort)\"}")
    }

    /// Starts the bridge (the fixture's `--request-timeout 10s`, every other option at its default) and the load.
    func start(records: Int, rate: Int, bridgeArguments: [String] = []) throws {
        bridge = try fixture.start(bridgeArguments)
        loadgen = try BackgroundProcess(RepoPaths.loadgen, [
            "--bootstrap", source.bootstrap, "--topic", "payment-events", "--partitions", "3",
            "--records", String(records), "--rate", String(rate),
        ])
    }

    func startBridge(_ arguments: [String]) throws -> BackgroundProcess {
        let process = try fixture.start(arguments)
        bridge = process
        return process
    }

    var sourceClient: KafkaTestClient { KafkaTestClient(bootstrap: source.bootstrap) }
    var targetClient: KafkaTestClient { KafkaTestClient(bootstrap: target.bootstrap) }

    func copied(partition: Int32) -> Int {
        (try? targetClient.readAll("us-east.payment-events", partition: partition, timeout: .seconds(2)).count) ?? 0
    }

    /// `regionbridge_lag_seconds` of each `payment-events` partition, from the bridge's own `/metrics`; `nil` when
    /// it does not answer or serves none yet.
    func lagSeconds() -> [Double]? {
        guard let body = try? httpGet("http://127.0.0.1:\(metricsPort)/metrics", timeout: .seconds(2)).body else { return nil }
        let values = body.split(separator: "\n").filter {
            $0.hasPrefix("regionbridge_lag_seconds{") && $0.contains(#"topic="payment-events""#)
        }.compactMap { line in line.split(separator: " ").last.flatMap { Double($0) } }
        return values.count == 3 ? values : nil
    }

    /// Every source record is in the target exactly once, in order, by its provenance header.
    func assertEveryRecordOnce(_ total: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var copied = 0
        for partition: Int32 in 0..<3 {
            let offsets = try sourceClient.readAll("payment-events", partition: partition).map(\.offset)
            let provenance = try targetClient.readAll("us-east.payment-events", partition: partition).map { $0.provenanceText ?? "missing" }
            XCTAssertEqual(provenance.count, offsets.count, "\(mode): payment-events/\(partition)", file: file, line: line)
            XCTAssertEqual(provenance, offsets.map { "us-east/payment-events/\(partition)/\($0)" }, "\(mode): payment-events/\(partition)", file: file, line: line)
            copied += provenance.count
        }
        XCTAssertEqual(copied, total, mode, file: file, line: line)
    }

    func tearDown() {
        target.thaw()
        source.thaw()
        loadgen?.kill()
        bridge?.kill()
        source.stop()
        target.stop()
    }
}

/// A cut DR link (the target broker frozen with SIGSTOP) is an outage, never a loss: the bridge waits it out in
/// both modes, and stops in bounded time when asked to. The whole matrix of outages is `make outages`.
final class OutagesOnTansuTests: XCTestCase {
    /// The scenario of the report: 3 partitions, about 200 records/s, the target frozen for 75 s, then thawed.
    /// Before, single mode exited 7 right after the thaw (`went back from offset 769 to 0`), and group mode claimed
    /// the same and then hung, abandoning one transaction after another 30 s apart. Both modes run at once, each
    /// on its own pair of brokers.
    func testA75SecondTargetFreezeIsWaitedOutInSingleAndGroupMode() throws {
        let pairs = [try OutagePair(mode: "single"), try OutagePair(mode: "group")]
        defer { pairs.forEach { $0.tearDown() } }
        let records = 200 * (20 + 75 + 15)
        for pair in pairs { try pair.start(records: records, rate: 200) }
        // A real Prometheus scrapes both every second with the shipped rules, thresholds unchanged (critical past
        // 60 s behind), every `for` shortened to 1 s so that a 75 s outage can fire them.
        let prometheus = try PrometheusServer(
            rulesFile: try shippedPrometheusRules(holdFor: "1s"), targets: pairs.map { "127.0.0.1:\($0.metricsPort)" })
        defer { prometheus.stop() }
        let critical = { () -> Set<String> in
            Set(((try? prometheus.alerts()) ?? []).filter {
                $0.labels["alertname"] == "RegionBridgeLagCritical" && $0.labels["topic"] == "payment-events" && $0.state == "firing"
            }.compactMap { $0.labels["pair"] })
        }
        try waitUntil("both bridges copy", timeout: .seconds(60)) { pairs.allSatisfy { $0.copied(partition: 0) > 100 } }

        for pair in pairs { pair.target.freeze() }
        Thread.sleep(forTimeInterval: 75)
        for pair in pairs {
            XCTAssertTrue(pair.bridge!.isRunning, "\(pair.mode): exited while the target was frozen: \(pair.bridge!.stderrText)")
            // The outage is visible while it lasts: the lag gauge kept moving (past the 60 s of the critical alert).
            let lag = pair.lagSeconds() ?? []
            XCTAssertGreaterThan(lag.max() ?? 0, 60, "\(pair.mode): lag seconds at the end of the freeze: \(lag)")
        }
        let firing = critical()
        XCTAssertEqual(firing, ["us-east-to-eu-west-single", "us-east-to-eu-west-group"], "RegionBridgeLagCritical at the end of the freeze")
        let thawed = ContinuousClock.now
        for pair in pairs { pair.target.thaw() }

        var recovered: [String: Duration] = [:]
        let deadline = ContinuousClock.now + .seconds(180)
        while recovered.count < pairs.count, ContinuousClock.now < deadline {
            for pair in pairs where recovered[pair.mode] == nil {
                XCTAssertTrue(pair.bridge!.isRunning, "\(pair.mode): exited after the thaw: \(pair.bridge!.stderrText)")
                guard pair.bridge!.isRunning else { return }
                if let lag = pair.lagSeconds(), lag.allSatisfy({ $0 <= 1 }), ContinuousClock.now - thawed > .seconds(1) {
                    recovered[pair.mode] = ContinuousClock.now - thawed
                }
            }
            Thread.sleep(forTimeInterval: 0.5)
        }
        XCTAssertEqual(recovered.count, 2, "caught up after the thaw (lag <= 1 s on every partition): \(recovered)")
        print("75 s target freeze: caught up \(recovered.mapValues { String(format: "%.1f s", $0.timeInterval) }) after the thaw")

        try waitUntil("the critical lag alerts resolve in Prometheus", timeout: .seconds(60)) { critical().isEmpty }
        for pair in pairs { XCTAssertEqual(pair.loadgen!.waitForExit(timeout: .seconds(120)), 0, pair.loadgen!.stderrText) }
        for pair in pairs {
            try waitUntil("\(pair.mode): every record copied", timeout: .seconds(120)) {
                (0..<3).map { pair.copied(partition: Int32($0)) }.reduce(0, +) >= records
            }
        }
        // The bridge's own alert feed resolves what it fired once the condition has held for `lag.for` (30 s).
        try waitUntil("cluster_unreachable resolves in both bridges' alert feeds", timeout: .seconds(90)) {
            pairs.allSatisfy { $0.bridge!.stderrText.contains(#""alert":"cluster_unreachable","state":"resolved""#) }
        }
        for pair in pairs {
            let asked = ContinuousClock.now
            let code = pair.bridge!.stop(gracePeriod: .seconds(35))  // the drain timeout (30 s) plus 5 s
            XCTAssertEqual(code, 0, "\(pair.mode): \(pair.bridge!.stderrText)")
            XCTAssertLessThan(ContinuousClock.now - asked, .seconds(35), pair.mode)
            let log = pair.bridge!.stderrText
            XCTAssertFalse(log.contains("lost records"), "\(pair.mode): \(log)")
            XCTAssertFalse(log.contains("abandoned"), "\(pair.mode): \(log)")
            // The outage was one event: cluster_unreachable for the target fired once and resolved once.
            for state in ["firing", "resolved"] {
                let line = #""alert":"cluster_unreachable","state":"\#(state)""#
                XCTAssertEqual(log.components(separatedBy: line).count - 1, 1, "\(pair.mode): \(state): \(log)")
            }
            // The alert sink (the pair's alerts topic) says once that it stopped delivering and once that it
            // delivers again; before, it said "delivers again" every 15 s while it could not.
            XCTAssertEqual(log.components(separatedBy: "alert sink 1 of 1 delivers again").count - 1, 1, "\(pair.mode): \(log)")
            try pair.assertEveryRecordOnce(records)
        }
    }

    /// A bridge started while the target is frozen waits for it (`--start-timeout`, 2 minutes by default); a
    /// SIGTERM 35 s into that wait is an ordinary stop: exit 0 at once, and no claim of a timeout that has not
    /// passed. Before, it exited 1 with `(still after --start-timeout 120.0 seconds)` after 35 s.
    func testSIGTERMDuringTheStartUpWaitExitsZeroAtOnce() throws {
        let pair = try OutagePair(mode: "single")
        defer { pair.tearDown() }
        pair.target.freeze()
        let bridge = try pair.startBridge([])
        try waitUntil("the start-up waits for the target", timeout: .seconds(40)) { bridge.stderrText.contains("trying again until --start-timeout") }
        Thread.sleep(forTimeInterval: max(0, 35 - 10))  // 35 s after the start: the first round took the 10 s request timeout
        XCTAssertTrue(bridge.isRunning, bridge.stderrText)
        let asked = ContinuousClock.now
        bridge.kill(signal: SIGTERM)
        let code = bridge.waitForExit(timeout: .seconds(10))
        XCTAssertEqual(code, 0, bridge.stderrText)
        XCTAssertLessThan(ContinuousClock.now - asked, .seconds(3), "answered at once, not after a request timeout")
        XCTAssertFalse(bridge.stderrText.contains("still after --start-timeout"), bridge.stderrText)
        XCTAssertTrue(bridge.stderrText.contains("stopped before the first discovery answered: nothing was copied"), bridge.stderrText)
    }
}
