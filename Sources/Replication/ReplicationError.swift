/// Why replication stopped. Each kind has its own process exit code.
public struct ReplicationError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The source cluster could not be read.
        case sourceUnavailable
        /// The target cluster could not be read or written.
        case targetUnavailable
        /// A target topic could not be created or grown.
        case targetTopicSetup
        /// The target refused a record (too large, not authorised, ...). Exit code 6.
        case targetRefusedRecord
        /// Source records were deleted before they were copied. Exit code 5.
        case sourceGap
        /// The target lost records the bridge had written (a target partition's offsets went back). Exit code 7.
        case targetDataLost
        /// A client hit a fatal error.
        case fatal
    }

    /// What went wrong.
    public var kind: Kind
    /// What to tell the operator: names the topic, partition and offset where there is one.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The process exit code for this error: 5 for a source gap, 6 for a refused record, 7 for a target that
    /// lost data, 1 otherwise.
    public var exitCode: Int32 {
        switch kind {
        case .sourceGap: return 5
        case .targetRefusedRecord: return 6
        case .targetDataLost: return 7
        default: return 1
        }
    }

    public var description: String { message }
}
