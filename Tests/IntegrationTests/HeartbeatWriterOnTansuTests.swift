import Foundation
import Kafka
import Logging
@testable import Monitoring
import Replication
import Synchronization
import TestSupport
import Topology
import XCTest

/// The heartbeat writer against a real tansu source (librdkafka's mock cluster has no controller for CreateTopics):
/// it writes only while this instance leads the group sync, into a topic it creates with one partition, one
/// heartbeat per tick.
final class HeartbeatWriterOnTansuTests: XCTestCase {
    func testWritesOnlyWhileLeadingIntoATopicOfOnePartition() throws {
        let logger = Logger(label: "test")
        let source = try TansuBroker(name: "us-east")
        defer { source.stop() }
        let topology = Topology(
            pair: "p", source: ClusterEndpoint(region: "us-east", bootstrapServers: source.bootstrap),
            target: ClusterEndpoint(region: "eu-west", bootstrapServers: "127.0.0.1:1"), topics: TopicSelection(include: ["payments"]),
            heartbeats: HeartbeatSettings(interval: .seconds(1)))
        let leads = Atomic<Bool>(false)
        let writer = try HeartbeatWriting(clients: ClusterClients(topology: topology, logger: logger), leads: { leads.load(ordering: .relaxed) }, timeout: .seconds(10), logger: logger)
        let admin = try KafkaAdmin(configuration: topology.source.kafkaConfiguration(pair: "p"), logger: logger)
        let topic = "regionbridge.p.heartbeats"

        writer.tick()
        writer.close(timeout: .seconds(2))
        XCTAssertFalse(try admin.topics(timeout: .seconds(10)).contains { $0.name == topic }, "a follower neither creates the topic nor writes")
        XCTAssertNil(KafkaClientCensus.snapshot()["regionbridge-p-heartbeats"], "nor holds a producer")

        leads.store(true, ordering: .relaxed)
        for _ in 0..<3 {
            writer.tick()
            writer.close(timeout: .seconds(5))
        }
        let metadata = try XCTUnwrap(try admin.topics(timeout: .seconds(10)).first { $0.name == topic })
        XCTAssertEqual(metadata.partitions, [0])
        XCTAssertEqual(try admin.queryWatermarks(TopicPartition(topic, 0), timeout: .seconds(10)).high, 3)
        XCTAssertEqual(KafkaClientCensus.snapshot()["regionbridge-p-heartbeats"], 1, "one producer, made when it first led")

        leads.store(false, ordering: .relaxed)
        writer.tick()
        writer.close(timeout: .seconds(2))
        XCTAssertEqual(try admin.queryWatermarks(TopicPartition(topic, 0), timeout: .seconds(10)).high, 3, "no heartbeat once it no longer leads")
    }
}
