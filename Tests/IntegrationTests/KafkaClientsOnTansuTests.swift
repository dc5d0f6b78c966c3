import Failover
import Foundation
import Kafka
import Logging
@testable import Replication
import TestSupport
import Topology
import XCTest

/// A running bridge holds one set of librdkafka clients: one admin client per cluster shared by every part
/// (engine, group sync, probe, alerts, heartbeats), and only the consumers and producers that need state of their
/// own. The count is read where an operator reads it, `regionbridge_kafka_clients` at /metrics, and must not grow
/// while the bridge ticks (no client per look, per sync or per heartbeat).
final class KafkaClientsOnTansuTests: TwoRegionTestCase {
    /// The value of the pair's gauge `name` at /metrics, nil while it is not served.
    private func gauge(_ name: String, at port: Int) -> Double? {
        guard let (status, body) = try? httpGet("http://127.0.0.1:\(port)/metrics"), status == 200 else { return nil }
        let prefix = name + #"{pair="us-east-to-eu-west"} "#
        return body.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    private func clients(at port: Int) -> Int? {
        gauge("regionbridge_kafka_clients", at: port).map { Int($0) }
    }

    /// Waits until the bridge synced groups and `logged` is in its log (every part has made its clients), then reads
    /// the count, and again after some ticks of each part.
    private func countOnceRunning(port: Int, process: BackgroundProcess, logged: String) throws -> (first: Int, later: Int) {
        let deadline = ContinuousClock.now + .seconds(60)
        // A group-sync round done (its producer and reader are made at the first), a heartbeat written and copied.
        func started() -> Bool {
            (gauge("regionbridge_last_group_sync_timestamp_seconds", at: port) ?? 0) > 0 && process.stderrText.contains(logged)
        }
        while !started(), ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.2)
        }
        XCTAssertTrue(started(), "the bridge syncs groups and logs \(logged):\n\(process.stderrText.suffix(3000))")
        let first = try XCTUnwrap(clients(at: port), "regionbridge_kafka_clients is served")
        // Group sync every second, heartbeats every second, the probe every 10 s: all of them tick in 11 s.
        Thread.sleep(forTimeInterval: 11)
        let later = try XCTUnwrap(clients(at: port))
        return (first, later)
    }

    func testASingleModeRunHoldsTenClientsAndOpensNoneAsItTicks() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.produce((0..<20).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let port = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"],
            extra: "metrics:\n  listen: \"127.0.0.1:\(port)\"\nheartbeats: {interval: 1s}\n")
        let process = try bridge.start()
        defer { _ = process.stop(gracePeriod: .seconds(10)) }
        // The heartbeat topic, created by the writer after the start, is copied too: its partition is copied by the
        // same producer, but wait for it anyway, as in group mode.
        let (first, later) = try countOnceRunning(port: port, process: process, logged: "copying regionbridge.us-east-to-eu-west.heartbeats/0 ->")
        // Source: the admin client, the copy consumer, the heartbeat producer. Target: the admin client, the
        // producer, discovery's tail reader, the group sync's producer and reader, the alert producer, the
        // heartbeat consumer. (Before the clients were shared: 20, nine of them admin clients.)
        XCTAssertEqual(first, 10, process.stderrText.suffix(2000).description)
        XCTAssertEqual(later, first, "no client is opened per tick")
    }

    func testAGroupModeInstanceAddsOneTransactionalProducerPerOwnedPartition() throws {
        try sourceClient.createTopic("payments", partitions: 2)
        try sourceClient.produce((0..<20).map { KafkaRecord(topic: "payments", partition: Int32($0 % 2), offset: 0, key: nil, value: [UInt8($0)]) })
        let port = try freeLoopbackPort()
        let bridge = try BridgeFixture(
            source: source.bootstrap, target: target.bootstrap, include: ["payments"],
            extra: "metrics:\n  listen: \"127.0.0.1:\(port)\"\nheartbeats: {interval: 1s}\n"
                + "instances: {mode: group, session_timeout: 6s, commit_interval: 100ms}\n")
        let process = try bridge.start()
        defer { _ = process.stop(gracePeriod: .seconds(10)) }
        // The heartbeat topic appears after the start (its writer creates it); its partition is assigned in a later
        // rebalance, with its own transactional producer: wait for the instance to own all three.
        let (first, later) = try countOnceRunning(port: port, process: process, logged: "owns 3 partition(s)")
        // The ten of single mode, less the idempotent producer, plus the take-over tail reader and one
        // transactional producer for each partition this only instance owns: payments/0, payments/1 and the
        // heartbeat topic's one partition (copied like any other).
        XCTAssertEqual(first, 13, process.stderrText.suffix(2000).description)
        XCTAssertEqual(later, first, "no client is opened per tick")
    }

    /// In group mode only the instance that leads (``ReplicationState/leadsGroupSync``) syncs groups: the others
    /// make neither the sync's producer nor its reader.
    func testTheGroupSyncMakesItsOwnClientsOnlyOnceItLeads() throws {
        try sourceClient.createTopic("payments", partitions: 1)
        let logger = Logger(label: "test")
        let topology = Topology(
            pair: "leads", source: ClusterEndpoint(region: "us-east", bootstrapServers: source.bootstrap),
            target: ClusterEndpoint(region: "eu-west", bootstrapServers: target.bootstrap), topics: TopicSelection(include: ["payments"]),
            groups: GroupSelection(syncInterval: .milliseconds(100)))
        let state = ReplicationState()
        let sync = try GroupOffsetSync(
            topology: topology, state: state, clients: ClusterClients(topology: topology, logger: logger), timeout: .seconds(5), observer: nil,
            logger: logger)
        func own() -> [Int?] { ["regionbridge-leads-groups", "regionbridge-leads-translate"].map { KafkaClientCensus.snapshot()[$0] } }
        func run(for seconds: Double) {
            let stop = StopSignal()
            let done = DispatchSemaphore(value: 0)
            Thread { sync.run(until: stop); done.signal() }.start()
            Thread.sleep(forTimeInterval: seconds)
            stop.stop()
            done.wait()
        }
        state.publish([:], leadsGroupSync: false)
        run(for: 1)
        XCTAssertEqual(own(), [nil, nil], "ten intervals without leading: no producer, no reader")
        state.publish([:], leadsGroupSync: true)
        run(for: 1)
        XCTAssertEqual(own(), [1, 1], "leading: one producer and one reader, made once")
    }
}
