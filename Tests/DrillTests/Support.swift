import Drill
import Failover
import Foundation
import Kafka
import Monitoring
import Replication
import Topology
import XCTest

/// A pair us-east -> eu-west replicating `payments` with the prefix policy, groups `app-.*`.
func pairTopology(
    include: [String] = ["payments"], rename: RenamePolicy = .prefix, groups: [String] = ["app-.*"],
    source: String = "127.0.0.1:19092", target: String = "127.0.0.1:29092", drill: DrillSettings = DrillSettings()
) -> Topology {
    Topology(
        pair: "us-east-to-eu-west", source: ClusterEndpoint(region: "us-east", bootstrapServers: source),
        target: ClusterEndpoint(region: "eu-west", bootstrapServers: target), topics: TopicSelection(include: include, rename: rename),
        groups: GroupSelection(include: groups, syncInterval: .seconds(10)), drill: drill)
}

/// The reverse pair of ``pairTopology(include:rename:groups:source:target:drill:)``.
func reverseTopology(
    include: [String] = ["payments"], rename: RenamePolicy = .prefix, source: String = "127.0.0.1:29092", target: String = "127.0.0.1:19092",
    sourceRegion: String = "eu-west", targetRegion: String = "us-east"
) -> Topology {
    Topology(
        pair: "eu-west-to-us-east", source: ClusterEndpoint(region: sourceRegion, bootstrapServers: source),
        target: ClusterEndpoint(region: targetRegion, bootstrapServers: target), topics: TopicSelection(include: include, rename: rename))
}

/// A partition's lag: `behind` records, `seconds` behind.
func lag(
    _ partition: Int32, behind: Int64, seconds: Double?, lastCopied: Int64? = 99, topic: String = "payments", basis: SecondsBasis? = nil
) -> PartitionLag {
    PartitionLag(
        source: TopicPartition(topic, partition), target: TopicPartition("us-east.\(topic)", partition), sourceLogStart: 0,
        sourceEnd: (lastCopied ?? -1) + 1 + behind, lastCopied: lastCopied, recordsBehind: behind,
        oldestPendingTimestamp: behind > 0 ? 1_000 : nil, secondsBehind: seconds, targetEnd: (lastCopied ?? -1) + 1,
        secondsBasis: behind > 0 ? basis : nil)
}

/// A group position on payments/`partition`.
func position(
    _ group: String, _ partition: Int32, source: Int64, target: Int64, committed: Int64? = nil, toReplicate: Int64 = 0, basis: String = "source"
) -> GroupPartitionPosition {
    // Made from its JSON form (as `failover --format json` prints it): the type has no public memberwise initializer.
    let json = """
        {"group": "\(group)", "topic": "payments", "partition": \(partition), "source_offset": \(source), "target_topic": "us-east.payments",
         "target_offset": \(target), "target_end": 100, "to_replicate": \(toReplicate), "committed_in_target": \(committed.map(String.init) ?? "null"),
         "basis": "\(basis)"}
        """
    return try! JSONDecoder().decode(GroupPartitionPosition.self, from: Data(json.utf8))
}

/// `STATUS subject: cause or figure`, for compact exact assertions.
func summary(_ checks: [DrillCheck]) -> [String] {
    checks.map { "\($0.status.label) \($0.subject): \($0.cause ?? $0.figure)" }
}
