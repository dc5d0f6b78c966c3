/// Where a replicated record came from: the `regionbridge.source` header,
/// `<source region>/<topic>/<partition>/<offset>`.
///
/// Every record the bridge writes carries it. It is how the bridge resumes after a crash
/// (the last one in a target partition names the last source offset copied), how loops are
/// broken in active-active pairs, and how tests prove exactly-once.
package struct Provenance: Sendable, Hashable, CustomStringConvertible {
    /// The header's name.
    package static let headerName = "regionbridge.source"

    /// Region of the cluster the record was first copied from.
    package var region: String
    /// Source topic.
    package var topic: String
    /// Source partition.
    package var partition: Int32
    /// Source offset.
    package var offset: Int64

    /// Creates a provenance.
    package init(region: String, topic: String, partition: Int32, offset: Int64) {
        self.region = region
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    /// Parses a header value; `nil` when it is not of the form `region/topic/partition/offset`.
    /// Topic names cannot contain `/`, regions cannot either, so the split is unambiguous.
    package init?(headerValue bytes: [UInt8]) {
        let parts = bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[0].isEmpty, !parts[1].isEmpty,
              let partition = Int32(String(decoding: parts[2], as: UTF8.self)),
              let offset = Int64(String(decoding: parts[3], as: UTF8.self)),
              partition >= 0, offset >= 0
        else { return nil }
        self.init(
            region: String(decoding: parts[0], as: UTF8.self), topic: String(decoding: parts[1], as: UTF8.self),
            partition: partition, offset: offset)
    }

    /// The header value's bytes.
    package var headerValue: [UInt8] { Array(description.utf8) }

    package var description: String { "\(region)/\(topic)/\(partition)/\(offset)" }

    /// `true` when this provenance names the same source partition.
    package func isFrom(region: String, topic: String, partition: Int32) -> Bool {
        self.partition == partition && self.region == region && self.topic == topic
    }
}
