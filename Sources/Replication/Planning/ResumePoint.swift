import Kafka

/// Where copying of one source partition starts, from what the target already holds.
package enum ResumePoint {
    /// The source position right after the last copied record, or the source's beginning
    /// when the target holds nothing from this partition.
    package static func start(afterLastCopied lastCopied: Int64?) -> StartOffset {
        guard let lastCopied else { return .beginning }
        return .offset(lastCopied + 1)
    }
}

/// Source records that were deleted before the bridge copied them.
package struct SourceGap: Sendable, Equatable, CustomStringConvertible {
    /// The source partition.
    package var partition: TopicPartition
    /// First offset the bridge needed.
    package var wanted: Int64
    /// The source log's start and end offsets when the gap was found.
    package var logStart: Int64
    /// The source log's end offset when the gap was found.
    package var logEnd: Int64

    /// Creates a gap description.
    package init(partition: TopicPartition, wanted: Int64, logStart: Int64, logEnd: Int64) {
        self.partition = partition
        self.wanted = wanted
        self.logStart = logStart
        self.logEnd = logEnd
    }

    package var description: String {
        if wanted < logStart {
            return "source \(partition): offsets \(wanted)...\(logStart - 1) were deleted before they were copied (log now starts at \(logStart))"
        }
        return "source \(partition): the bridge copied up to offset \(wanted - 1) but the log now ends at \(logEnd) (topic deleted and re-created, or truncated)"
    }
}
