/// One replicated record's place on both sides: the source offset its provenance names and where it sits in the target.
package struct OffsetPair: Sendable, Hashable, Codable {
    /// Offset in the source partition.
    package var source: Int64
    /// Offset in the target partition.
    package var target: Int64

    /// Creates a pair.
    package init(source: Int64, target: Int64) {
        self.source = source
        self.target = target
    }
}
