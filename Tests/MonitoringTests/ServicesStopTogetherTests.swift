import Foundation
import Kafka
import Logging
import Monitoring
import Replication
import ServiceLifecycle
import Synchronization
import TestSupport
import Topology
import XCTest

/// The services of `regionbridge run` stop together, and none does blocking I/O where it must not.
final class ServicesStopTogetherTests: XCTestCase {
    private let logger = Logger(label: "test.services")

    private struct ProbeFailed: Error {}

    /// A service that fails after a moment, as the probe does when it cannot create its clients.
    private struct FailingService: Service, CustomStringConvertible {
        let after: Duration
        var description: String { "FailingService" }
        func run() async throws {
            try await Task.sleep(for: after)
            throw ProbeFailed()
        }
    }

    private func topology(source: String, target: String, secret: String = "unused") -> Topology {
        Topology(
            pair: "us-east-to-eu-west",
            source: ClusterEndpoint(region: "us-east", bootstrapServers: source, properties: ["sasl.password": secret]),
            target: ClusterEndpoint(region: "eu-west", bootstrapServers: target, properties: ["ssl.key.password": secret]),
            topics: TopicSelection(include: ["payments"], discoveryInterval: .seconds(1)),
            groups: GroupSelection(include: []))
    }

    /// When another service of the group fails, the group is cancelled: the engine must stop too (before the fix it ran
    /// on, on its own thread, and `ServiceGroup.run` never returned).
    func testAFailingServiceCancelsTheGroupAndTheEngineStops() async throws {
        let source = try TansuBroker(name: "us-east")
        let target = try TansuBroker(name: "eu-west")
        defer { source.stop(); target.stop() }
        try KafkaTestClient(bootstrap: source.bootstrap).createTopic("payments", partitions: 1)
        try KafkaTestClient(bootstrap: source.bootstrap).produce((0..<100).map {
            KafkaRecord(topic: "payments", partition: 0, offset: 0, key: Array("k\($0)".utf8), value: Array("v\($0)".utf8))
        })
        var options = ReplicationOptions()
        options.requestTimeout = .seconds(5)
        let pair = topology(source: source.bootstrap, target: target.bootstrap)
        let engine = ReplicationEngine(topology: pair, options: options, clients: ClusterClients(topology: pair, logger: logger), logger: logger)
        let finished = Mutex<Bool>(false)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: FailingService(after: .seconds(3))), .init(service: BridgeService(engine: engine) { _ in finished.withLock { $0 = true } })],
            logger: logger))
        let outcome = Mutex<String?>(nil)
        let started = ContinuousClock.now
        let task = Task {
            do {
                try await group.run()
                outcome.withLock { $0 = "returned" }
            } catch {
                outcome.withLock { $0 = "\(type(of: error))" }
            }
        }
        while outcome.withLock({ $0 }) == nil, ContinuousClock.now - started < .seconds(40) {
            try await Task.sleep(for: .milliseconds(100))
        }
        let result = outcome.withLock { $0 }
        XCTAssertEqual(result, "ProbeFailed", "the group did not stop within 40 s of the failure: the engine runs on")
        XCTAssertTrue(finished.withLock { $0 }, "the engine returned its summary: it stopped, drained and returned")
        if result == nil { task.cancel() }
    }

    /// The alerter runs its sinks on its own thread, `regionbridge-alerts`, never on the cooperative pool.
    func testTheAlerterCallsItsSinksOnItsOwnThread() async throws {
        final class ThreadRecordingSink: AlertSink {
            let threads = Mutex<Set<String>>([])
            func deliver(_ events: [AlertEvent]) throws(AlertSinkError) {
                let name = currentDedicatedThreadName ?? "a thread of the cooperative pool"
                threads.withLock { _ = $0.insert(name) }
            }
            func close(timeout: Duration) { _ = try? deliver([]) }
        }
        let sink = ThreadRecordingSink()
        let alerter = LagAlerter(
            settings: LagSettings(holdFor: .zero), pair: "p", sinks: [sink], tick: .milliseconds(20), logger: logger)
        alerter.clusterReachable(.target, false)
        let task = Task { try await alerter.run() }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        try await task.value
        XCTAssertEqual(sink.threads.withLock { $0 }, ["regionbridge-alerts"])
    }

    /// Creating the alerts topic waits for the target without holding the sink's lock: closing the sink meanwhile
    /// does not wait for it.
    func testTheKafkaSinkDoesNotHoldItsLockWhileCreatingTheTopic() throws {
        let nowhere = "127.0.0.1:\(try freeLoopbackPort())"
        let sink = try KafkaAlertSink(clients: ClusterClients(topology: topology(source: nowhere, target: nowhere), logger: logger), timeout: .seconds(4), logger: logger)
        let event = AlertEvent(alert: .clusterUnreachable, state: .firing, severity: .critical, pair: "p", cluster: .target, at: Date())
        let creating = Thread { _ = try? sink.deliver([event]) }
        creating.start()
        Thread.sleep(forTimeInterval: 0.5)
        let start = ContinuousClock.now
        sink.close(timeout: .zero)
        XCTAssertEqual(sink.pendingCount, 1, "the event waits for the topic")
        let waited = ContinuousClock.now - start
        XCTAssertLessThan(waited, .seconds(1), "close waited \(waited) for the lock held while creating the topic")
        Thread.sleep(forTimeInterval: 4)
    }

    /// A send that fails part-way (the producer's queue holds one record) loses nothing: what the producer did not
    /// take is sent on the next delivery, in order.
    func testTheKafkaSinkKeepsWhatASendFailingPartWayDidNotTake() throws {
        let target = try TansuBroker(name: "eu-west")
        defer { target.stop() }
        var topology = topology(source: target.bootstrap, target: target.bootstrap)
        topology.target.properties = ["queue.buffering.max.messages": "1"]
        let sink = try KafkaAlertSink(clients: ClusterClients(topology: topology, logger: logger), logger: logger)
        let events = (0..<12).map { index in
            AlertEvent(alert: .replicationLag, state: index % 2 == 0 ? .firing : .resolved, severity: .warning, pair: "p",
                       partition: TopicPartition("payments", Int32(index)), lagRecords: Int64(index), lagSeconds: 1, at: Date())
        }
        var failures = 0
        do { try sink.deliver(events) } catch { failures += 1 }
        XCTAssertEqual(failures, 1, "the producer takes one record at a time: the send fails part-way")
        let deadline = ContinuousClock.now + .seconds(30)
        while sink.pendingCount > 0, ContinuousClock.now < deadline {
            Thread.sleep(forTimeInterval: 0.05)
            try? sink.deliver([])
        }
        sink.close(timeout: .seconds(10))
        let written = try KafkaTestClient(bootstrap: target.bootstrap).readAll(KafkaAlertSink.topic(for: topology), partition: 0)
            .map { String(decoding: $0.value ?? [], as: UTF8.self) }
        XCTAssertEqual(written, events.map(\.jsonLine), "every event once, in order")
    }

    /// The services `run` puts in its group are logged by swift-service-lifecycle with their descriptions: none
    /// shows the topology's secrets.
    func testServiceDescriptionsCarryNoConfiguration() throws {
        let topology = topology(source: "127.0.0.1:1", target: "127.0.0.1:2", secret: "pw-service-d6f7")
        let engine = ReplicationEngine(topology: topology, clients: ClusterClients(topology: topology, logger: logger), logger: logger)
        let services: [any Service] = [
            MonitorProbe(clients: ClusterClients(topology: topology, logger: logger), observer: BridgeReadiness(), logger: logger),
            LagAlerter(settings: topology.lag, pair: topology.pair, sinks: [], logger: logger),
            BridgeService(engine: engine),
        ]
        for service in services {
            var dumped = ""
            dump(service, to: &dumped)
            let logged = "\(service) \(String(reflecting: service)) \([service])"
            XCTAssertFalse((logged + dumped).contains("d6f7"), logged + dumped)
            XCTAssertFalse(logged.contains("127.0.0.1:1"), "no configuration at all: \(logged)")
        }
    }
}
