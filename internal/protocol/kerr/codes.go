// Code table for kerr: every error code Apache Kafka 4.1 defines. Codes never change; names
// are Kafka's. Descriptions are Sluice's own one-line summaries.

package kerr

// The errors, one per code, in code order.
var (
	UnknownServerError                 = &Error{Code: -1, Name: "UNKNOWN_SERVER_ERROR", Retriable: false, Description: "The broker hit an unexpected failure while handling the request."}
	OffsetOutOfRange                   = &Error{Code: 1, Name: "OFFSET_OUT_OF_RANGE", Retriable: false, Description: "The requested offset lies outside the offsets the partition currently holds."}
	CorruptMessage                     = &Error{Code: 2, Name: "CORRUPT_MESSAGE", Retriable: true, Description: "A record batch failed its checksum, has an impossible size or is otherwise damaged."}
	UnknownTopicOrPartition            = &Error{Code: 3, Name: "UNKNOWN_TOPIC_OR_PARTITION", Retriable: true, Description: "This broker does not know the topic or partition."}
	InvalidFetchSize                   = &Error{Code: 4, Name: "INVALID_FETCH_SIZE", Retriable: false, Description: "The fetch size in the request is not acceptable."}
	LeaderNotAvailable                 = &Error{Code: 5, Name: "LEADER_NOT_AVAILABLE", Retriable: true, Description: "The partition has no leader right now, usually because an election is under way."}
	NotLeaderOrFollower                = &Error{Code: 6, Name: "NOT_LEADER_OR_FOLLOWER", Retriable: true, Description: "This broker is neither the leader nor a follower of the partition the request needs."}
	RequestTimedOut                    = &Error{Code: 7, Name: "REQUEST_TIMED_OUT", Retriable: true, Description: "The request did not complete within its timeout."}
	BrokerNotAvailable                 = &Error{Code: 8, Name: "BROKER_NOT_AVAILABLE", Retriable: false, Description: "The broker is not available."}
	ReplicaNotAvailable                = &Error{Code: 9, Name: "REPLICA_NOT_AVAILABLE", Retriable: true, Description: "The replica needed for the partition is not available."}
	MessageTooLarge                    = &Error{Code: 10, Name: "MESSAGE_TOO_LARGE", Retriable: false, Description: "A record batch is larger than the broker or topic accepts."}
	StaleControllerEpoch               = &Error{Code: 11, Name: "STALE_CONTROLLER_EPOCH", Retriable: false, Description: "The request came from a controller whose epoch is out of date."}
	OffsetMetadataTooLarge             = &Error{Code: 12, Name: "OFFSET_METADATA_TOO_LARGE", Retriable: false, Description: "The metadata attached to an offset commit is too long."}
	NetworkException                   = &Error{Code: 13, Name: "NETWORK_EXCEPTION", Retriable: true, Description: "The connection closed before a response arrived."}
	CoordinatorLoadInProgress          = &Error{Code: 14, Name: "COORDINATOR_LOAD_IN_PROGRESS", Retriable: true, Description: "The coordinator is still loading its state and cannot serve the request yet."}
	CoordinatorNotAvailable            = &Error{Code: 15, Name: "COORDINATOR_NOT_AVAILABLE", Retriable: true, Description: "The coordinator is not available."}
	NotCoordinator                     = &Error{Code: 16, Name: "NOT_COORDINATOR", Retriable: true, Description: "This broker is not the coordinator for the group or transactional id."}
	InvalidTopicException              = &Error{Code: 17, Name: "INVALID_TOPIC_EXCEPTION", Retriable: false, Description: "The topic name is not valid or the operation is not allowed on this topic."}
	RecordListTooLarge                 = &Error{Code: 18, Name: "RECORD_LIST_TOO_LARGE", Retriable: false, Description: "A record batch is larger than a log segment may hold."}
	NotEnoughReplicas                  = &Error{Code: 19, Name: "NOT_ENOUGH_REPLICAS", Retriable: true, Description: "Fewer replicas are in sync than the topic requires, so the write was refused."}
	NotEnoughReplicasAfterAppend       = &Error{Code: 20, Name: "NOT_ENOUGH_REPLICAS_AFTER_APPEND", Retriable: true, Description: "The write reached the log, but fewer replicas are in sync than the topic requires."}
	InvalidRequiredAcks                = &Error{Code: 21, Name: "INVALID_REQUIRED_ACKS", Retriable: false, Description: "The produce request asked for an acks value the broker does not accept."}
	IllegalGeneration                  = &Error{Code: 22, Name: "ILLEGAL_GENERATION", Retriable: false, Description: "The group generation in the request is not the current one."}
	InconsistentGroupProtocol          = &Error{Code: 23, Name: "INCONSISTENT_GROUP_PROTOCOL", Retriable: false, Description: "The member's protocol type or protocols do not match the group's."}
	InvalidGroupID                     = &Error{Code: 24, Name: "INVALID_GROUP_ID", Retriable: false, Description: "The group id is not valid."}
	UnknownMemberID                    = &Error{Code: 25, Name: "UNKNOWN_MEMBER_ID", Retriable: false, Description: "The coordinator does not know this member id."}
	InvalidSessionTimeout              = &Error{Code: 26, Name: "INVALID_SESSION_TIMEOUT", Retriable: false, Description: "The session timeout is outside the range the broker allows."}
	RebalanceInProgress                = &Error{Code: 27, Name: "REBALANCE_IN_PROGRESS", Retriable: false, Description: "The group is rebalancing; the member must rejoin."}
	InvalidCommitOffsetSize            = &Error{Code: 28, Name: "INVALID_COMMIT_OFFSET_SIZE", Retriable: false, Description: "The offset commit carries data of an invalid size."}
	TopicAuthorizationFailed           = &Error{Code: 29, Name: "TOPIC_AUTHORIZATION_FAILED", Retriable: false, Description: "The principal is not authorized for the topic."}
	GroupAuthorizationFailed           = &Error{Code: 30, Name: "GROUP_AUTHORIZATION_FAILED", Retriable: false, Description: "The principal is not authorized for the group."}
	ClusterAuthorizationFailed         = &Error{Code: 31, Name: "CLUSTER_AUTHORIZATION_FAILED", Retriable: false, Description: "The principal is not authorized for the cluster operation."}
	InvalidTimestamp                   = &Error{Code: 32, Name: "INVALID_TIMESTAMP", Retriable: false, Description: "A record timestamp lies outside the range the topic accepts."}
	UnsupportedSASLMechanism           = &Error{Code: 33, Name: "UNSUPPORTED_SASL_MECHANISM", Retriable: false, Description: "The broker does not offer the requested SASL mechanism."}
	IllegalSASLState                   = &Error{Code: 34, Name: "ILLEGAL_SASL_STATE", Retriable: false, Description: "The request is not allowed in the connection's current SASL state."}
	UnsupportedVersion                 = &Error{Code: 35, Name: "UNSUPPORTED_VERSION", Retriable: false, Description: "The broker does not support this version of the API."}
	TopicAlreadyExists                 = &Error{Code: 36, Name: "TOPIC_ALREADY_EXISTS", Retriable: false, Description: "A topic with this name already exists."}
	InvalidPartitions                  = &Error{Code: 37, Name: "INVALID_PARTITIONS", Retriable: false, Description: "The partition count is not valid."}
	InvalidReplicationFactor           = &Error{Code: 38, Name: "INVALID_REPLICATION_FACTOR", Retriable: false, Description: "The replication factor is not valid."}
	InvalidReplicaAssignment           = &Error{Code: 39, Name: "INVALID_REPLICA_ASSIGNMENT", Retriable: false, Description: "The replica assignment is not valid."}
	InvalidConfig                      = &Error{Code: 40, Name: "INVALID_CONFIG", Retriable: false, Description: "A configuration value is not valid."}
	NotController                      = &Error{Code: 41, Name: "NOT_CONTROLLER", Retriable: true, Description: "This node is not the active controller."}
	InvalidRequest                     = &Error{Code: 42, Name: "INVALID_REQUEST", Retriable: false, Description: "The request is malformed or inconsistent; the broker log may say why."}
	UnsupportedForMessageFormat        = &Error{Code: 43, Name: "UNSUPPORTED_FOR_MESSAGE_FORMAT", Retriable: false, Description: "The topic's message format does not support this request."}
	PolicyViolation                    = &Error{Code: 44, Name: "POLICY_VIOLATION", Retriable: false, Description: "The request breaks a policy the broker enforces."}
	OutOfOrderSequenceNumber           = &Error{Code: 45, Name: "OUT_OF_ORDER_SEQUENCE_NUMBER", Retriable: false, Description: "The producer's sequence number does not follow the last one the broker accepted."}
	DuplicateSequenceNumber            = &Error{Code: 46, Name: "DUPLICATE_SEQUENCE_NUMBER", Retriable: false, Description: "The broker already accepted a batch with this sequence number."}
	InvalidProducerEpoch               = &Error{Code: 47, Name: "INVALID_PRODUCER_EPOCH", Retriable: false, Description: "The producer epoch is older than the current one, or the producer is fenced."}
	InvalidTxnState                    = &Error{Code: 48, Name: "INVALID_TXN_STATE", Retriable: false, Description: "The operation is not allowed in the transaction's current state."}
	InvalidProducerIDMapping           = &Error{Code: 49, Name: "INVALID_PRODUCER_ID_MAPPING", Retriable: false, Description: "The producer id is not mapped to this transactional id."}
	InvalidTransactionTimeout          = &Error{Code: 50, Name: "INVALID_TRANSACTION_TIMEOUT", Retriable: false, Description: "The transaction timeout exceeds the broker's maximum."}
	ConcurrentTransactions             = &Error{Code: 51, Name: "CONCURRENT_TRANSACTIONS", Retriable: true, Description: "Another operation on this transactional id is still in progress."}
	TransactionCoordinatorFenced       = &Error{Code: 52, Name: "TRANSACTION_COORDINATOR_FENCED", Retriable: false, Description: "The transaction coordinator that sent this has been replaced by a newer one."}
	TransactionalIDAuthorizationFailed = &Error{Code: 53, Name: "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", Retriable: false, Description: "The principal is not authorized for the transactional id."}
	SecurityDisabled                   = &Error{Code: 54, Name: "SECURITY_DISABLED", Retriable: false, Description: "Security features are turned off on this broker."}
	OperationNotAttempted              = &Error{Code: 55, Name: "OPERATION_NOT_ATTEMPTED", Retriable: false, Description: "The broker skipped this operation because another part of the request failed."}
	KafkaStorageError                  = &Error{Code: 56, Name: "KAFKA_STORAGE_ERROR", Retriable: true, Description: "The log directory holding the partition failed."}
	LogDirNotFound                     = &Error{Code: 57, Name: "LOG_DIR_NOT_FOUND", Retriable: false, Description: "The log directory named in the request does not exist."}
	SASLAuthenticationFailed           = &Error{Code: 58, Name: "SASL_AUTHENTICATION_FAILED", Retriable: false, Description: "SASL authentication failed."}
	UnknownProducerID                  = &Error{Code: 59, Name: "UNKNOWN_PRODUCER_ID", Retriable: false, Description: "The broker has no state for this producer id, for example after its records expired."}
	ReassignmentInProgress             = &Error{Code: 60, Name: "REASSIGNMENT_IN_PROGRESS", Retriable: false, Description: "A reassignment of the partition is already in progress."}
	DelegationTokenAuthDisabled        = &Error{Code: 61, Name: "DELEGATION_TOKEN_AUTH_DISABLED", Retriable: false, Description: "Delegation tokens are turned off."}
	DelegationTokenNotFound            = &Error{Code: 62, Name: "DELEGATION_TOKEN_NOT_FOUND", Retriable: false, Description: "The delegation token does not exist."}
	DelegationTokenOwnerMismatch       = &Error{Code: 63, Name: "DELEGATION_TOKEN_OWNER_MISMATCH", Retriable: false, Description: "The principal does not own the delegation token or may not renew it."}
	DelegationTokenRequestNotAllowed   = &Error{Code: 64, Name: "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", Retriable: false, Description: "Delegation token requests are refused on connections that authenticated with a token or without SASL."}
	DelegationTokenAuthorizationFailed = &Error{Code: 65, Name: "DELEGATION_TOKEN_AUTHORIZATION_FAILED", Retriable: false, Description: "The principal is not authorized for the delegation token operation."}
	DelegationTokenExpired             = &Error{Code: 66, Name: "DELEGATION_TOKEN_EXPIRED", Retriable: false, Description: "The delegation token has expired."}
	InvalidPrincipalType               = &Error{Code: 67, Name: "INVALID_PRINCIPAL_TYPE", Retriable: false, Description: "The principal type is not supported."}
	NonEmptyGroup                      = &Error{Code: 68, Name: "NON_EMPTY_GROUP", Retriable: false, Description: "The group still has members."}
	GroupIDNotFound                    = &Error{Code: 69, Name: "GROUP_ID_NOT_FOUND", Retriable: false, Description: "The group does not exist."}
	FetchSessionIDNotFound             = &Error{Code: 70, Name: "FETCH_SESSION_ID_NOT_FOUND", Retriable: true, Description: "The fetch session id is not known to the broker."}
	InvalidFetchSessionEpoch           = &Error{Code: 71, Name: "INVALID_FETCH_SESSION_EPOCH", Retriable: true, Description: "The fetch session epoch is not the one the broker expects."}
	ListenerNotFound                   = &Error{Code: 72, Name: "LISTENER_NOT_FOUND", Retriable: true, Description: "The leader has no endpoint on the listener the request came in on."}
	TopicDeletionDisabled              = &Error{Code: 73, Name: "TOPIC_DELETION_DISABLED", Retriable: false, Description: "Topic deletion is turned off on this cluster."}
	FencedLeaderEpoch                  = &Error{Code: 74, Name: "FENCED_LEADER_EPOCH", Retriable: true, Description: "The leader epoch in the request is older than the broker's."}
	UnknownLeaderEpoch                 = &Error{Code: 75, Name: "UNKNOWN_LEADER_EPOCH", Retriable: true, Description: "The leader epoch in the request is newer than the broker's."}
	UnsupportedCompressionType         = &Error{Code: 76, Name: "UNSUPPORTED_COMPRESSION_TYPE", Retriable: false, Description: "The request uses a compression codec this API version does not allow."}
	StaleBrokerEpoch                   = &Error{Code: 77, Name: "STALE_BROKER_EPOCH", Retriable: false, Description: "The broker epoch in the request is out of date."}
	OffsetNotAvailable                 = &Error{Code: 78, Name: "OFFSET_NOT_AVAILABLE", Retriable: true, Description: "The leader's high watermark has not caught up yet, so the offset cannot be served."}
	MemberIDRequired                   = &Error{Code: 79, Name: "MEMBER_ID_REQUIRED", Retriable: false, Description: "The member must rejoin with the member id the coordinator assigned."}
	PreferredLeaderNotAvailable        = &Error{Code: 80, Name: "PREFERRED_LEADER_NOT_AVAILABLE", Retriable: true, Description: "The preferred leader could not be elected."}
	GroupMaxSizeReached                = &Error{Code: 81, Name: "GROUP_MAX_SIZE_REACHED", Retriable: false, Description: "The group already has the maximum number of members."}
	FencedInstanceID                   = &Error{Code: 82, Name: "FENCED_INSTANCE_ID", Retriable: false, Description: "Another member with the same group.instance.id replaced this one."}
	EligibleLeadersNotAvailable        = &Error{Code: 83, Name: "ELIGIBLE_LEADERS_NOT_AVAILABLE", Retriable: true, Description: "No replica eligible for leadership is available."}
	ElectionNotNeeded                  = &Error{Code: 84, Name: "ELECTION_NOT_NEEDED", Retriable: true, Description: "The leader election was not needed."}
	NoReassignmentInProgress           = &Error{Code: 85, Name: "NO_REASSIGNMENT_IN_PROGRESS", Retriable: false, Description: "No reassignment of the partition is in progress."}
	GroupSubscribedToTopic             = &Error{Code: 86, Name: "GROUP_SUBSCRIBED_TO_TOPIC", Retriable: false, Description: "The group has active subscribers to the topic, so its offsets cannot be deleted."}
	InvalidRecord                      = &Error{Code: 87, Name: "INVALID_RECORD", Retriable: false, Description: "A record failed the broker's validation and the batch was refused."}
	UnstableOffsetCommit               = &Error{Code: 88, Name: "UNSTABLE_OFFSET_COMMIT", Retriable: true, Description: "Offsets are pending in an open transaction; retry after it ends."}
	ThrottlingQuotaExceeded            = &Error{Code: 89, Name: "THROTTLING_QUOTA_EXCEEDED", Retriable: true, Description: "The request exceeded the principal's mutation rate quota."}
	ProducerFenced                     = &Error{Code: 90, Name: "PRODUCER_FENCED", Retriable: false, Description: "A newer producer with the same transactional id fenced this one."}
	ResourceNotFound                   = &Error{Code: 91, Name: "RESOURCE_NOT_FOUND", Retriable: false, Description: "The resource the request names does not exist."}
	DuplicateResource                  = &Error{Code: 92, Name: "DUPLICATE_RESOURCE", Retriable: false, Description: "The request names the same resource more than once."}
	UnacceptableCredential             = &Error{Code: 93, Name: "UNACCEPTABLE_CREDENTIAL", Retriable: false, Description: "The credential does not meet the broker's requirements."}
	InconsistentVoterSet               = &Error{Code: 94, Name: "INCONSISTENT_VOTER_SET", Retriable: false, Description: "The voter sets of the quorum members disagree."}
	InvalidUpdateVersion               = &Error{Code: 95, Name: "INVALID_UPDATE_VERSION", Retriable: false, Description: "The feature version update is not valid."}
	FeatureUpdateFailed                = &Error{Code: 96, Name: "FEATURE_UPDATE_FAILED", Retriable: false, Description: "The feature update could not be applied."}
	PrincipalDeserializationFailure    = &Error{Code: 97, Name: "PRINCIPAL_DESERIALIZATION_FAILURE", Retriable: false, Description: "The principal in the request could not be decoded."}
	SnapshotNotFound                   = &Error{Code: 98, Name: "SNAPSHOT_NOT_FOUND", Retriable: false, Description: "The requested metadata snapshot does not exist."}
	PositionOutOfRange                 = &Error{Code: 99, Name: "POSITION_OUT_OF_RANGE", Retriable: false, Description: "The requested position is not inside the snapshot."}
	UnknownTopicID                     = &Error{Code: 100, Name: "UNKNOWN_TOPIC_ID", Retriable: true, Description: "This broker does not know the topic id."}
	DuplicateBrokerRegistration        = &Error{Code: 101, Name: "DUPLICATE_BROKER_REGISTRATION", Retriable: false, Description: "A live broker is already registered with this broker id."}
	BrokerIDNotRegistered              = &Error{Code: 102, Name: "BROKER_ID_NOT_REGISTERED", Retriable: false, Description: "No broker with this id is registered."}
	InconsistentTopicID                = &Error{Code: 103, Name: "INCONSISTENT_TOPIC_ID", Retriable: true, Description: "The topic id does not match the topic id the partition has."}
	InconsistentClusterID              = &Error{Code: 104, Name: "INCONSISTENT_CLUSTER_ID", Retriable: false, Description: "The cluster id in the request is not this cluster's."}
	TransactionalIDNotFound            = &Error{Code: 105, Name: "TRANSACTIONAL_ID_NOT_FOUND", Retriable: false, Description: "The transactional id does not exist."}
	FetchSessionTopicIDError           = &Error{Code: 106, Name: "FETCH_SESSION_TOPIC_ID_ERROR", Retriable: true, Description: "The fetch session and the request disagree about using topic ids."}
	IneligibleReplica                  = &Error{Code: 107, Name: "INELIGIBLE_REPLICA", Retriable: false, Description: "The new ISR names a replica that may not join it."}
	NewLeaderElected                   = &Error{Code: 108, Name: "NEW_LEADER_ELECTED", Retriable: false, Description: "The leader changed while the partition state change was pending."}
	OffsetMovedToTieredStorage         = &Error{Code: 109, Name: "OFFSET_MOVED_TO_TIERED_STORAGE", Retriable: false, Description: "The offset now lives only in tiered storage."}
	FencedMemberEpoch                  = &Error{Code: 110, Name: "FENCED_MEMBER_EPOCH", Retriable: false, Description: "The member epoch is fenced; the member must rejoin with epoch zero."}
	UnreleasedInstanceID               = &Error{Code: 111, Name: "UNRELEASED_INSTANCE_ID", Retriable: false, Description: "The group.instance.id is still held by another member."}
	UnsupportedAssignor                = &Error{Code: 112, Name: "UNSUPPORTED_ASSIGNOR", Retriable: false, Description: "The group does not support the assignor the member named."}
	StaleMemberEpoch                   = &Error{Code: 113, Name: "STALE_MEMBER_EPOCH", Retriable: false, Description: "The member epoch is out of date; the member should retry with the current one."}
	MismatchedEndpointType             = &Error{Code: 114, Name: "MISMATCHED_ENDPOINT_TYPE", Retriable: false, Description: "The request was sent to an endpoint of the wrong type."}
	UnsupportedEndpointType            = &Error{Code: 115, Name: "UNSUPPORTED_ENDPOINT_TYPE", Retriable: false, Description: "The endpoint type does not support this request."}
	UnknownControllerID                = &Error{Code: 116, Name: "UNKNOWN_CONTROLLER_ID", Retriable: false, Description: "No controller with this id is known."}
	UnknownSubscriptionID              = &Error{Code: 117, Name: "UNKNOWN_SUBSCRIPTION_ID", Retriable: false, Description: "The client telemetry subscription id is not known or has been replaced."}
	TelemetryTooLarge                  = &Error{Code: 118, Name: "TELEMETRY_TOO_LARGE", Retriable: false, Description: "The client telemetry payload is larger than the broker accepts."}
	InvalidRegistration                = &Error{Code: 119, Name: "INVALID_REGISTRATION", Retriable: false, Description: "The controller rejected the broker registration as invalid."}
	TransactionAbortable               = &Error{Code: 120, Name: "TRANSACTION_ABORTABLE", Retriable: false, Description: "The server error can be recovered by aborting the transaction."}
	InvalidRecordState                 = &Error{Code: 121, Name: "INVALID_RECORD_STATE", Retriable: false, Description: "The record's state does not allow the acknowledgement."}
	ShareSessionNotFound               = &Error{Code: 122, Name: "SHARE_SESSION_NOT_FOUND", Retriable: true, Description: "The share session is not known to the broker."}
	InvalidShareSessionEpoch           = &Error{Code: 123, Name: "INVALID_SHARE_SESSION_EPOCH", Retriable: true, Description: "The share session epoch is not the one the broker expects."}
	FencedStateEpoch                   = &Error{Code: 124, Name: "FENCED_STATE_EPOCH", Retriable: false, Description: "The share coordinator refused the request because the state epoch did not match."}
	InvalidVoterKey                    = &Error{Code: 125, Name: "INVALID_VOTER_KEY", Retriable: false, Description: "The voter key does not match the replica receiving the request."}
	DuplicateVoter                     = &Error{Code: 126, Name: "DUPLICATE_VOTER", Retriable: false, Description: "The voter is already in the voter set."}
	VoterNotFound                      = &Error{Code: 127, Name: "VOTER_NOT_FOUND", Retriable: false, Description: "The voter is not in the voter set."}
	InvalidRegularExpression           = &Error{Code: 128, Name: "INVALID_REGULAR_EXPRESSION", Retriable: false, Description: "The regular expression is not valid."}
	RebootstrapRequired                = &Error{Code: 129, Name: "REBOOTSTRAP_REQUIRED", Retriable: false, Description: "The client's metadata is stale; it should bootstrap again."}
	StreamsInvalidTopology             = &Error{Code: 130, Name: "STREAMS_INVALID_TOPOLOGY", Retriable: false, Description: "The streams topology is not valid."}
	StreamsInvalidTopologyEpoch        = &Error{Code: 131, Name: "STREAMS_INVALID_TOPOLOGY_EPOCH", Retriable: false, Description: "The streams topology epoch is not valid."}
	StreamsTopologyFenced              = &Error{Code: 132, Name: "STREAMS_TOPOLOGY_FENCED", Retriable: false, Description: "The streams topology epoch is out of date."}
	ShareSessionLimitReached           = &Error{Code: 133, Name: "SHARE_SESSION_LIMIT_REACHED", Retriable: true, Description: "The broker already holds the maximum number of share sessions."}
)

// all lists every error in code order; ForCode indexes it.
var all = [...]*Error{
	UnknownServerError,
	OffsetOutOfRange,
	CorruptMessage,
	UnknownTopicOrPartition,
	InvalidFetchSize,
	LeaderNotAvailable,
	NotLeaderOrFollower,
	RequestTimedOut,
	BrokerNotAvailable,
	ReplicaNotAvailable,
	MessageTooLarge,
	StaleControllerEpoch,
	OffsetMetadataTooLarge,
	NetworkException,
	CoordinatorLoadInProgress,
	CoordinatorNotAvailable,
	NotCoordinator,
	InvalidTopicException,
	RecordListTooLarge,
	NotEnoughReplicas,
	NotEnoughReplicasAfterAppend,
	InvalidRequiredAcks,
	IllegalGeneration,
	InconsistentGroupProtocol,
	InvalidGroupID,
	UnknownMemberID,
	InvalidSessionTimeout,
	RebalanceInProgress,
	InvalidCommitOffsetSize,
	TopicAuthorizationFailed,
	GroupAuthorizationFailed,
	ClusterAuthorizationFailed,
	InvalidTimestamp,
	UnsupportedSASLMechanism,
	IllegalSASLState,
	UnsupportedVersion,
	TopicAlreadyExists,
	InvalidPartitions,
	InvalidReplicationFactor,
	InvalidReplicaAssignment,
	InvalidConfig,
	NotController,
	InvalidRequest,
	UnsupportedForMessageFormat,
	PolicyViolation,
	OutOfOrderSequenceNumber,
	DuplicateSequenceNumber,
	InvalidProducerEpoch,
	InvalidTxnState,
	InvalidProducerIDMapping,
	InvalidTransactionTimeout,
	ConcurrentTransactions,
	TransactionCoordinatorFenced,
	TransactionalIDAuthorizationFailed,
	SecurityDisabled,
	OperationNotAttempted,
	KafkaStorageError,
	LogDirNotFound,
	SASLAuthenticationFailed,
	UnknownProducerID,
	ReassignmentInProgress,
	DelegationTokenAuthDisabled,
	DelegationTokenNotFound,
	DelegationTokenOwnerMismatch,
	DelegationTokenRequestNotAllowed,
	DelegationTokenAuthorizationFailed,
	DelegationTokenExpired,
	InvalidPrincipalType,
	NonEmptyGroup,
	GroupIDNotFound,
	FetchSessionIDNotFound,
	InvalidFetchSessionEpoch,
	ListenerNotFound,
	TopicDeletionDisabled,
	FencedLeaderEpoch,
	UnknownLeaderEpoch,
	UnsupportedCompressionType,
	StaleBrokerEpoch,
	OffsetNotAvailable,
	MemberIDRequired,
	PreferredLeaderNotAvailable,
	GroupMaxSizeReached,
	FencedInstanceID,
	EligibleLeadersNotAvailable,
	ElectionNotNeeded,
	NoReassignmentInProgress,
	GroupSubscribedToTopic,
	InvalidRecord,
	UnstableOffsetCommit,
	ThrottlingQuotaExceeded,
	ProducerFenced,
	ResourceNotFound,
	DuplicateResource,
	UnacceptableCredential,
	InconsistentVoterSet,
	InvalidUpdateVersion,
	FeatureUpdateFailed,
	PrincipalDeserializationFailure,
	SnapshotNotFound,
	PositionOutOfRange,
	UnknownTopicID,
	DuplicateBrokerRegistration,
	BrokerIDNotRegistered,
	InconsistentTopicID,
	InconsistentClusterID,
	TransactionalIDNotFound,
	FetchSessionTopicIDError,
	IneligibleReplica,
	NewLeaderElected,
	OffsetMovedToTieredStorage,
	FencedMemberEpoch,
	UnreleasedInstanceID,
	UnsupportedAssignor,
	StaleMemberEpoch,
	MismatchedEndpointType,
	UnsupportedEndpointType,
	UnknownControllerID,
	UnknownSubscriptionID,
	TelemetryTooLarge,
	InvalidRegistration,
	TransactionAbortable,
	InvalidRecordState,
	ShareSessionNotFound,
	InvalidShareSessionEpoch,
	FencedStateEpoch,
	InvalidVoterKey,
	DuplicateVoter,
	VoterNotFound,
	InvalidRegularExpression,
	RebootstrapRequired,
	StreamsInvalidTopology,
	StreamsInvalidTopologyEpoch,
	StreamsTopologyFenced,
	ShareSessionLimitReached,
}
