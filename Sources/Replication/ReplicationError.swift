/// Why replication stopped. Each kind has its own process exit code.
package struct ReplicationError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    package enum Kind: Sendable, Equatable {
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
    package var kind: Kind
    /// What to tell the operator: names the topic, partition and offset where there is one.
    package var message: String

    /// Creates an error.
    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The process exit code for this error: ``ExitCode/sourceGap`` (5), ``ExitCode/refusedRecord`` (6),
    /// ``ExitCode/targetLostData`` (7), ``ExitCode/runtime`` (1) otherwise.
    package var exitCode: ExitCode {
        switch kind {
        case .sourceGap: .sourceGap
        case .targetRefusedRecord: .refusedRecord
        case .targetDataLost: .targetLostData
        case .sourceUnavailable, .targetUnavailable, .targetTopicSetup, .fatal: .runtime
        }
    }

    package var description: String { message }
}
