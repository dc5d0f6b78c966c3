import Foundation
import Kafka
import Logging
import Replication
import Synchronization
import Topology
import XCTest

/// ClusterClients on librdkafka's in-process mock cluster: one admin client per cluster whoever asks, from any
/// thread; metadata reused only for `metadataMaxAge`.
final class ClusterClientsTests: XCTestCase {
    private let logger = Logger(label: "test")

    private func topology(_ mock: KafkaMockCluster) -> Topology {
        Topology(
            pair: "p", source: ClusterEndpoint(region: "us-east", bootstrapServers: mock.bootstrapServers),
            target: ClusterEndpoint(region: "eu-west", bootstrapServers: mock.bootstrapServers), topics: TopicSelection(include: ["payments"]))
    }

    func testEveryPartGetsTheSameAdminClientOfAClusterAndOnlyOneIsMade() throws {
        let mock = try KafkaMockCluster(brokers: 1, logger: logger)
        let before = KafkaClientCensus.total
        do {
            let clients = ClusterClients(topology: topology(mock), logger: logger)
            XCTAssertEqual(KafkaClientCensus.total, before, "nothing is made until a part asks")
            // Eight parts ask at once, from eight threads.
            let got = Mutex<[ObjectIdentifier]>([])
            DispatchQueue.concurrentPerform(iterations: 8) { _ in
                let admin = try! clients.admin(.source)
                got.withLock { $0.append(ObjectIdentifier(admin)) }
            }
            XCTAssertEqual(Set(got.withLock { $0 }).count, 1, "one admin client for the source")
            XCTAssertEqual(KafkaClientCensus.total, before + 1)
            XCTAssertNotIdentical(try clients.admin(.target), try clients.admin(.source), "the target has its own")
            XCTAssertIdentical(try clients.admin(.target), try clients.admin(.target))
            XCTAssertEqual(KafkaClientCensus.total, before + 2)
            XCTAssertEqual(KafkaClientCensus.snapshot()["regionbridge-p-admin"], 2)
        }
        XCTAssertEqual(KafkaClientCensus.total, before, "the clients go with the set")
    }

    func testMetadataIsReusedForItsMaxAgeOnlyAndAskedAfreshWithoutOne() throws {
        let mock = try KafkaMockCluster(brokers: 1, logger: logger)
        try mock.createTopic("payments", partitions: 1)
        let cached = ClusterClients(topology: topology(mock), metadataMaxAge: .seconds(60), logger: logger)
        let fresh = ClusterClients(topology: topology(mock), logger: logger)
        XCTAssertEqual(try cached.topics(.source, timeout: .seconds(5)).map(\.name).filter { $0 != "__consumer_offsets" }, ["payments"])
        XCTAssertEqual(try fresh.topics(.source, timeout: .seconds(5)).map(\.name).filter { $0 != "__consumer_offsets" }, ["payments"])
        try mock.createTopic("ledger", partitions: 2)
        XCTAssertEqual(try cached.topics(.source, timeout: .seconds(5)).map(\.name).filter { $0 != "__consumer_offsets" }, ["payments"],
                       "within metadataMaxAge the first answer is reused")
        XCTAssertEqual(Set(try fresh.topics(.source, timeout: .seconds(5)).map(\.name)).subtracting(["__consumer_offsets"]), ["payments", "ledger"],
                       "without a max age every call asks the cluster")
        XCTAssertEqual(Set(try cached.topics(.target, timeout: .seconds(5)).map(\.name)).subtracting(["__consumer_offsets"]), ["payments", "ledger"],
                       "each cluster keeps its own answer")
    }

    func testClientIDsNameThePairAndTheJob() {
        let clients = ClusterClients(
            topology: Topology(
                pair: "us-east-to-eu-west", source: ClusterEndpoint(region: "us-east", bootstrapServers: "a:9092"),
                target: ClusterEndpoint(region: "eu-west", bootstrapServers: "b:9092"), topics: TopicSelection(include: ["x"])),
            logger: logger)
        XCTAssertEqual(clients.configuration(.source, job: "heartbeats").clientID, "regionbridge-us-east-to-eu-west-heartbeats")
        XCTAssertEqual(clients.configuration(.source, job: "heartbeats").bootstrapServers, "a:9092")
        XCTAssertEqual(clients.configuration(.target).clientID, "regionbridge-us-east-to-eu-west")
        XCTAssertEqual(clients.configuration(.target).bootstrapServers, "b:9092")
    }
}
