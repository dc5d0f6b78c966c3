import Kafka
import Topology

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
        /// A Kafka client could not be created from a cluster's properties (a value librdkafka rejects, a key
        /// that cannot be read or decrypted with `ssl.key.password`). Exit code 2.
        case clientSetup
        /// The source cluster refused the bridge: a certificate, credentials or a permission. Exit code 2.
        case sourceRefused
        /// The target cluster refused the bridge: a certificate, credentials or a permission. Exit code 2.
        case targetRefused
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
    /// ``ExitCode/targetLostData`` (7), ``ExitCode/usage`` (2) for a refused connection (the configuration or the
    /// cluster's certificates or ACLs must change), ``ExitCode/runtime`` (1) otherwise.
    package var exitCode: ExitCode {
        switch kind {
        case .sourceRefused, .targetRefused, .clientSetup: .usage
        case .sourceGap: .sourceGap
        case .targetRefusedRecord: .refusedRecord
        case .targetDataLost: .targetLostData
        case .sourceUnavailable, .targetUnavailable, .targetTopicSetup, .fatal: .runtime
        }
    }

    package var description: String { message }

    /// The cluster this error is about, when it is about reaching one.
    package var cluster: ClusterRole? {
        switch kind {
        case .sourceUnavailable, .sourceRefused: .source
        case .targetUnavailable, .targetRefused: .target
        default: nil
        }
    }

    /// `doing` failed on a cluster that did not answer (exit 1), or that refused the bridge (exit 2, naming the
    /// cause and what to check).
    package static func unavailable(_ role: ClusterRole, _ doing: String, _ error: any Error) -> ReplicationError {
        if let refusal = (error as? KafkaError)?.refusal {
            return ReplicationError(role == .source ? .sourceRefused : .targetRefused, "\(doing): the \(role) cluster refuses this client: \(refusal)")
        }
        return ReplicationError(role == .source ? .sourceUnavailable : .targetUnavailable, "\(doing): \(error)")
    }

    /// A cluster that did not answer (exit 1), or that refused the bridge (exit 2, naming the cause and what to
    /// check).
    package static func cannotReach(_ role: ClusterRole, _ endpoint: ClusterEndpoint, _ error: KafkaError) -> ReplicationError {
        if let refusal = error.refusal {
            return ReplicationError(
                role == .source ? .sourceRefused : .targetRefused,
                "\(role) cluster \(endpoint.region) at \(endpoint.bootstrapServers) refuses this client: \(refusal)")
        }
        return ReplicationError(
            role == .source ? .sourceUnavailable : .targetUnavailable,
            "cannot reach \(role) cluster \(endpoint.region) at \(endpoint.bootstrapServers): \(error)")
    }
}
