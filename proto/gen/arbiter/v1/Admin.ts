// Original file: proto/arbiter/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AdminGetTransactionRequest as _arbiter_v1_AdminGetTransactionRequest, AdminGetTransactionRequest__Output as _arbiter_v1_AdminGetTransactionRequest__Output } from '../../arbiter/v1/AdminGetTransactionRequest.js';
import type { ListInDoubtRequest as _arbiter_v1_ListInDoubtRequest, ListInDoubtRequest__Output as _arbiter_v1_ListInDoubtRequest__Output } from '../../arbiter/v1/ListInDoubtRequest.js';
import type { ListInDoubtResponse as _arbiter_v1_ListInDoubtResponse, ListInDoubtResponse__Output as _arbiter_v1_ListInDoubtResponse__Output } from '../../arbiter/v1/ListInDoubtResponse.js';
import type { ListNodesRequest as _arbiter_v1_ListNodesRequest, ListNodesRequest__Output as _arbiter_v1_ListNodesRequest__Output } from '../../arbiter/v1/ListNodesRequest.js';
import type { ListNodesResponse as _arbiter_v1_ListNodesResponse, ListNodesResponse__Output as _arbiter_v1_ListNodesResponse__Output } from '../../arbiter/v1/ListNodesResponse.js';
import type { ListResourcesRequest as _arbiter_v1_ListResourcesRequest, ListResourcesRequest__Output as _arbiter_v1_ListResourcesRequest__Output } from '../../arbiter/v1/ListResourcesRequest.js';
import type { ListResourcesResponse as _arbiter_v1_ListResourcesResponse, ListResourcesResponse__Output as _arbiter_v1_ListResourcesResponse__Output } from '../../arbiter/v1/ListResourcesResponse.js';
import type { ListTransactionsRequest as _arbiter_v1_ListTransactionsRequest, ListTransactionsRequest__Output as _arbiter_v1_ListTransactionsRequest__Output } from '../../arbiter/v1/ListTransactionsRequest.js';
import type { ListTransactionsResponse as _arbiter_v1_ListTransactionsResponse, ListTransactionsResponse__Output as _arbiter_v1_ListTransactionsResponse__Output } from '../../arbiter/v1/ListTransactionsResponse.js';
import type { ResolveBranchRequest as _arbiter_v1_ResolveBranchRequest, ResolveBranchRequest__Output as _arbiter_v1_ResolveBranchRequest__Output } from '../../arbiter/v1/ResolveBranchRequest.js';
import type { ResolveBranchResponse as _arbiter_v1_ResolveBranchResponse, ResolveBranchResponse__Output as _arbiter_v1_ResolveBranchResponse__Output } from '../../arbiter/v1/ResolveBranchResponse.js';
import type { RunRecoveryRequest as _arbiter_v1_RunRecoveryRequest, RunRecoveryRequest__Output as _arbiter_v1_RunRecoveryRequest__Output } from '../../arbiter/v1/RunRecoveryRequest.js';
import type { RunRecoveryResponse as _arbiter_v1_RunRecoveryResponse, RunRecoveryResponse__Output as _arbiter_v1_RunRecoveryResponse__Output } from '../../arbiter/v1/RunRecoveryResponse.js';
import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';

/**
 * The operator's service: inspect, reconcile and resolve. It needs the admin
 * credential, distinct from the applications' one.
 */
export interface AdminClient extends grpc.Client {
  /**
   * Any node answers for any transaction of its cluster: from memory, its
   * log or the shared store; one that another live node is still deciding
   * is answered TM_WRONG_NODE with that node's address (ask it there).
   */
  GetTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  GetTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  GetTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  GetTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  /**
   * Any node answers for any transaction of its cluster: from memory, its
   * log or the shared store; one that another live node is still deciding
   * is answered TM_WRONG_NODE with that node's address (ask it there).
   */
  getTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  getTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  getTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  getTransaction(argument: _arbiter_v1_AdminGetTransactionRequest, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  
  /**
   * The prepared branches found on the resources right now, joined with what
   * the decision log knows of each.
   */
  ListInDoubt(argument: _arbiter_v1_ListInDoubtRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  ListInDoubt(argument: _arbiter_v1_ListInDoubtRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  ListInDoubt(argument: _arbiter_v1_ListInDoubtRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  ListInDoubt(argument: _arbiter_v1_ListInDoubtRequest, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The prepared branches found on the resources right now, joined with what
   * the decision log knows of each.
   */
  listInDoubt(argument: _arbiter_v1_ListInDoubtRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  listInDoubt(argument: _arbiter_v1_ListInDoubtRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  listInDoubt(argument: _arbiter_v1_ListInDoubtRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  listInDoubt(argument: _arbiter_v1_ListInDoubtRequest, callback: grpc.requestCallback<_arbiter_v1_ListInDoubtResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The cluster's nodes as the shared store knows them (log.store: postgres):
   * address, lease, epoch, the unfinished transactions each drives, and
   * takeovers. A node on its own (the file store) lists itself.
   */
  ListNodes(argument: _arbiter_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _arbiter_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _arbiter_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  ListNodes(argument: _arbiter_v1_ListNodesRequest, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The cluster's nodes as the shared store knows them (log.store: postgres):
   * address, lease, epoch, the unfinished transactions each drives, and
   * takeovers. A node on its own (the file store) lists itself.
   */
  listNodes(argument: _arbiter_v1_ListNodesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _arbiter_v1_ListNodesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _arbiter_v1_ListNodesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  listNodes(argument: _arbiter_v1_ListNodesRequest, callback: grpc.requestCallback<_arbiter_v1_ListNodesResponse__Output>): grpc.ClientUnaryCall;
  
  ListResources(argument: _arbiter_v1_ListResourcesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  ListResources(argument: _arbiter_v1_ListResourcesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  ListResources(argument: _arbiter_v1_ListResourcesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  ListResources(argument: _arbiter_v1_ListResourcesRequest, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  listResources(argument: _arbiter_v1_ListResourcesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  listResources(argument: _arbiter_v1_ListResourcesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  listResources(argument: _arbiter_v1_ListResourcesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  listResources(argument: _arbiter_v1_ListResourcesRequest, callback: grpc.requestCallback<_arbiter_v1_ListResourcesResponse__Output>): grpc.ClientUnaryCall;
  
  ListTransactions(argument: _arbiter_v1_ListTransactionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  ListTransactions(argument: _arbiter_v1_ListTransactionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  ListTransactions(argument: _arbiter_v1_ListTransactionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  ListTransactions(argument: _arbiter_v1_ListTransactionsRequest, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _arbiter_v1_ListTransactionsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _arbiter_v1_ListTransactionsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _arbiter_v1_ListTransactionsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  listTransactions(argument: _arbiter_v1_ListTransactionsRequest, callback: grpc.requestCallback<_arbiter_v1_ListTransactionsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Commits or rolls back a branch (or every branch of a transaction) by
   * hand. Written to the log first; never undone by recovery. In a cluster
   * only the node that holds the transaction resolves it (its write is
   * fenced by that node's lease, as its decisions are): another node
   * answers TM_WRONG_NODE with the holder's address, and the CLI follows it.
   */
  ResolveBranch(argument: _arbiter_v1_ResolveBranchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  ResolveBranch(argument: _arbiter_v1_ResolveBranchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  ResolveBranch(argument: _arbiter_v1_ResolveBranchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  ResolveBranch(argument: _arbiter_v1_ResolveBranchRequest, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Commits or rolls back a branch (or every branch of a transaction) by
   * hand. Written to the log first; never undone by recovery. In a cluster
   * only the node that holds the transaction resolves it (its write is
   * fenced by that node's lease, as its decisions are): another node
   * answers TM_WRONG_NODE with the holder's address, and the CLI follows it.
   */
  resolveBranch(argument: _arbiter_v1_ResolveBranchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  resolveBranch(argument: _arbiter_v1_ResolveBranchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  resolveBranch(argument: _arbiter_v1_ResolveBranchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  resolveBranch(argument: _arbiter_v1_ResolveBranchRequest, callback: grpc.requestCallback<_arbiter_v1_ResolveBranchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A recovery pass on the answering node: the transactions it holds (its
   * own and those it took over). `arbiter admin recover --all-nodes` asks
   * every live node of a cluster.
   */
  RunRecovery(argument: _arbiter_v1_RunRecoveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  RunRecovery(argument: _arbiter_v1_RunRecoveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  RunRecovery(argument: _arbiter_v1_RunRecoveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  RunRecovery(argument: _arbiter_v1_RunRecoveryRequest, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A recovery pass on the answering node: the transactions it holds (its
   * own and those it took over). `arbiter admin recover --all-nodes` asks
   * every live node of a cluster.
   */
  runRecovery(argument: _arbiter_v1_RunRecoveryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  runRecovery(argument: _arbiter_v1_RunRecoveryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  runRecovery(argument: _arbiter_v1_RunRecoveryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  runRecovery(argument: _arbiter_v1_RunRecoveryRequest, callback: grpc.requestCallback<_arbiter_v1_RunRecoveryResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * The operator's service: inspect, reconcile and resolve. It needs the admin
 * credential, distinct from the applications' one.
 */
export interface AdminHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Any node answers for any transaction of its cluster: from memory, its
   * log or the shared store; one that another live node is still deciding
   * is answered TM_WRONG_NODE with that node's address (ask it there).
   */
  GetTransaction: grpc.handleUnaryCall<_arbiter_v1_AdminGetTransactionRequest__Output, _arbiter_v1_Transaction>;
  
  /**
   * The prepared branches found on the resources right now, joined with what
   * the decision log knows of each.
   */
  ListInDoubt: grpc.handleUnaryCall<_arbiter_v1_ListInDoubtRequest__Output, _arbiter_v1_ListInDoubtResponse>;
  
  /**
   * The cluster's nodes as the shared store knows them (log.store: postgres):
   * address, lease, epoch, the unfinished transactions each drives, and
   * takeovers. A node on its own (the file store) lists itself.
   */
  ListNodes: grpc.handleUnaryCall<_arbiter_v1_ListNodesRequest__Output, _arbiter_v1_ListNodesResponse>;
  
  ListResources: grpc.handleUnaryCall<_arbiter_v1_ListResourcesRequest__Output, _arbiter_v1_ListResourcesResponse>;
  
  ListTransactions: grpc.handleUnaryCall<_arbiter_v1_ListTransactionsRequest__Output, _arbiter_v1_ListTransactionsResponse>;
  
  /**
   * Commits or rolls back a branch (or every branch of a transaction) by
   * hand. Written to the log first; never undone by recovery. In a cluster
   * only the node that holds the transaction resolves it (its write is
   * fenced by that node's lease, as its decisions are): another node
   * answers TM_WRONG_NODE with the holder's address, and the CLI follows it.
   */
  ResolveBranch: grpc.handleUnaryCall<_arbiter_v1_ResolveBranchRequest__Output, _arbiter_v1_ResolveBranchResponse>;
  
  /**
   * A recovery pass on the answering node: the transactions it holds (its
   * own and those it took over). `arbiter admin recover --all-nodes` asks
   * every live node of a cluster.
   */
  RunRecovery: grpc.handleUnaryCall<_arbiter_v1_RunRecoveryRequest__Output, _arbiter_v1_RunRecoveryResponse>;
  
}

export interface AdminDefinition extends grpc.ServiceDefinition {
  GetTransaction: MethodDefinition<_arbiter_v1_AdminGetTransactionRequest, _arbiter_v1_Transaction, _arbiter_v1_AdminGetTransactionRequest__Output, _arbiter_v1_Transaction__Output>
  ListInDoubt: MethodDefinition<_arbiter_v1_ListInDoubtRequest, _arbiter_v1_ListInDoubtResponse, _arbiter_v1_ListInDoubtRequest__Output, _arbiter_v1_ListInDoubtResponse__Output>
  ListNodes: MethodDefinition<_arbiter_v1_ListNodesRequest, _arbiter_v1_ListNodesResponse, _arbiter_v1_ListNodesRequest__Output, _arbiter_v1_ListNodesResponse__Output>
  ListResources: MethodDefinition<_arbiter_v1_ListResourcesRequest, _arbiter_v1_ListResourcesResponse, _arbiter_v1_ListResourcesRequest__Output, _arbiter_v1_ListResourcesResponse__Output>
  ListTransactions: MethodDefinition<_arbiter_v1_ListTransactionsRequest, _arbiter_v1_ListTransactionsResponse, _arbiter_v1_ListTransactionsRequest__Output, _arbiter_v1_ListTransactionsResponse__Output>
  ResolveBranch: MethodDefinition<_arbiter_v1_ResolveBranchRequest, _arbiter_v1_ResolveBranchResponse, _arbiter_v1_ResolveBranchRequest__Output, _arbiter_v1_ResolveBranchResponse__Output>
  RunRecovery: MethodDefinition<_arbiter_v1_RunRecoveryRequest, _arbiter_v1_RunRecoveryResponse, _arbiter_v1_RunRecoveryRequest__Output, _arbiter_v1_RunRecoveryResponse__Output>
}
