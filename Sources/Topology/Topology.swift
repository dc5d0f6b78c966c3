// TEMPORARY stub with the agreed API, replaced by the topology branch.
import Foundation
public struct ClusterEndpoint: Sendable, Equatable {
    public var region: String
    public var bootstrapServers: String
    public var properties: [String: String]
    public init(region: String, bootstrapServers: String, properties: [String: String]) {
        self.region = region; self.bootstrapServers = bootstrapServers; self.properties = properties
    }
}
public enum RenamePolicy: String, Sendable, Equatable, CaseIterable {
    case prefix, identity
    public func targetTopic(for sourceTopic: String, sourceRegion: String) -> String {
        self == .prefix ? "\(sourceRegion).\(sourceTopic)" : sourceTopic
    }
}
public struct TopicSelection: Sendable, Equatable {
    public var include: [String]
    public var exclude: [String]
    public var rename: RenamePolicy
    public var replicationFactor: Int
    public var discoveryInterval: Duration
    public init(include: [String], exclude: [String] = [], rename: RenamePolicy = .prefix, replicationFactor: Int = -1, discoveryInterval: Duration = .seconds(5)) {
        self.include = include; self.exclude = exclude; self.rename = rename; self.replicationFactor = replicationFactor; self.discoveryInterval = discoveryInterval
    }
    public func selects(_ topic: String) -> Bool {
        if topic.hasPrefix("__") || topic.hasPrefix("regionbridge.") { return false }
        func m(_ p: String) -> Bool { (try? Regex(p).wholeMatch(in: topic)) != nil }
        return include.contains(where: m) && !exclude.contains(where: m)
    }
}
public struct Topology: Sendable, Equatable {
    public var pair: String
    public var source: ClusterEndpoint
    public var target: ClusterEndpoint
    public var topics: TopicSelection
    public init(pair: String, source: ClusterEndpoint, target: ClusterEndpoint, topics: TopicSelection) {
        self.pair = pair; self.source = source; self.target = target; self.topics = topics
    }
}
public struct TopologyError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}
public enum TopologyLoader {
    public static func load(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(TopologyError) -> Topology {
        throw TopologyError(description: "stub")
    }
}
public func parseDuration(_ text: String) -> Duration? {
    if text.hasSuffix("ms"), let v = Int(text.dropLast(2)) { return .milliseconds(v) }
    if text.hasSuffix("s"), let v = Int(text.dropLast()) { return .seconds(v) }
    return nil
}
