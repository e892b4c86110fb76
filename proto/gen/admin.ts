import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AdminClient as _arbiter_v1_AdminClient, AdminDefinition as _arbiter_v1_AdminDefinition } from './arbiter/v1/Admin.js';
import type { AdminGetTransactionRequest as _arbiter_v1_AdminGetTransactionRequest, AdminGetTransactionRequest__Output as _arbiter_v1_AdminGetTransactionRequest__Output } from './arbiter/v1/AdminGetTransactionRequest.js';
import type { Branch as _arbiter_v1_Branch, Branch__Output as _arbiter_v1_Branch__Output } from './arbiter/v1/Branch.js';
import type { InDoubtBranch as _arbiter_v1_InDoubtBranch, InDoubtBranch__Output as _arbiter_v1_InDoubtBranch__Output } from './arbiter/v1/InDoubtBranch.js';
import type { ListInDoubtRequest as _arbiter_v1_ListInDoubtRequest, ListInDoubtRequest__Output as _arbiter_v1_ListInDoubtRequest__Output } from './arbiter/v1/ListInDoubtRequest.js';
import type { ListInDoubtResponse as _arbiter_v1_ListInDoubtResponse, ListInDoubtResponse__Output as _arbiter_v1_ListInDoubtResponse__Output } from './arbiter/v1/ListInDoubtResponse.js';
import type { ListNodesRequest as _arbiter_v1_ListNodesRequest, ListNodesRequest__Output as _arbiter_v1_ListNodesRequest__Output } from './arbiter/v1/ListNodesRequest.js';
import type { ListNodesResponse as _arbiter_v1_ListNodesResponse, ListNodesResponse__Output as _arbiter_v1_ListNodesResponse__Output } from './arbiter/v1/ListNodesResponse.js';
import type { ListResourcesRequest as _arbiter_v1_ListResourcesRequest, ListResourcesRequest__Output as _arbiter_v1_ListResourcesRequest__Output } from './arbiter/v1/ListResourcesRequest.js';
import type { ListResourcesResponse as _arbiter_v1_ListResourcesResponse, ListResourcesResponse__Output as _arbiter_v1_ListResourcesResponse__Output } from './arbiter/v1/ListResourcesResponse.js';
import type { ListTransactionsRequest as _arbiter_v1_ListTransactionsRequest, ListTransactionsRequest__Output as _arbiter_v1_ListTransactionsRequest__Output } from './arbiter/v1/ListTransactionsRequest.js';
import type { ListTransactionsResponse as _arbiter_v1_ListTransactionsResponse, ListTransactionsResponse__Output as _arbiter_v1_ListTransactionsResponse__Output } from './arbiter/v1/ListTransactionsResponse.js';
import type { NodeInfo as _arbiter_v1_NodeInfo, NodeInfo__Output as _arbiter_v1_NodeInfo__Output } from './arbiter/v1/NodeInfo.js';
import type { RecoveryStep as _arbiter_v1_RecoveryStep, RecoveryStep__Output as _arbiter_v1_RecoveryStep__Output } from './arbiter/v1/RecoveryStep.js';
import type { ResolveBranchRequest as _arbiter_v1_ResolveBranchRequest, ResolveBranchRequest__Output as _arbiter_v1_ResolveBranchRequest__Output } from './arbiter/v1/ResolveBranchRequest.js';
import type { ResolveBranchResponse as _arbiter_v1_ResolveBranchResponse, ResolveBranchResponse__Output as _arbiter_v1_ResolveBranchResponse__Output } from './arbiter/v1/ResolveBranchResponse.js';
import type { ResourceHealth as _arbiter_v1_ResourceHealth, ResourceHealth__Output as _arbiter_v1_ResourceHealth__Output } from './arbiter/v1/ResourceHealth.js';
import type { RunRecoveryRequest as _arbiter_v1_RunRecoveryRequest, RunRecoveryRequest__Output as _arbiter_v1_RunRecoveryRequest__Output } from './arbiter/v1/RunRecoveryRequest.js';
import type { RunRecoveryResponse as _arbiter_v1_RunRecoveryResponse, RunRecoveryResponse__Output as _arbiter_v1_RunRecoveryResponse__Output } from './arbiter/v1/RunRecoveryResponse.js';
import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from './arbiter/v1/Transaction.js';
import type { TransactionSummary as _arbiter_v1_TransactionSummary, TransactionSummary__Output as _arbiter_v1_TransactionSummary__Output } from './arbiter/v1/TransactionSummary.js';
import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from './arbiter/v1/Xid.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  arbiter: {
    v1: {
      /**
       * The operator's service: inspect, reconcile and resolve. It needs the admin
       * credential, distinct from the applications' one.
       */
      Admin: SubtypeConstructor<typeof grpc.Client, _arbiter_v1_AdminClient> & { service: _arbiter_v1_AdminDefinition }
      AdminGetTransactionRequest: MessageTypeDefinition<_arbiter_v1_AdminGetTransactionRequest, _arbiter_v1_AdminGetTransactionRequest__Output>
      Branch: MessageTypeDefinition<_arbiter_v1_Branch, _arbiter_v1_Branch__Output>
      BranchMode: EnumTypeDefinition
      BranchState: EnumTypeDefinition
      InDoubtBranch: MessageTypeDefinition<_arbiter_v1_InDoubtBranch, _arbiter_v1_InDoubtBranch__Output>
      ListInDoubtRequest: MessageTypeDefinition<_arbiter_v1_ListInDoubtRequest, _arbiter_v1_ListInDoubtRequest__Output>
      ListInDoubtResponse: MessageTypeDefinition<_arbiter_v1_ListInDoubtResponse, _arbiter_v1_ListInDoubtResponse__Output>
      ListNodesRequest: MessageTypeDefinition<_arbiter_v1_ListNodesRequest, _arbiter_v1_ListNodesRequest__Output>
      ListNodesResponse: MessageTypeDefinition<_arbiter_v1_ListNodesResponse, _arbiter_v1_ListNodesResponse__Output>
      ListResourcesRequest: MessageTypeDefinition<_arbiter_v1_ListResourcesRequest, _arbiter_v1_ListResourcesRequest__Output>
      ListResourcesResponse: MessageTypeDefinition<_arbiter_v1_ListResourcesResponse, _arbiter_v1_ListResourcesResponse__Output>
      ListTransactionsRequest: MessageTypeDefinition<_arbiter_v1_ListTransactionsRequest, _arbiter_v1_ListTransactionsRequest__Output>
      ListTransactionsResponse: MessageTypeDefinition<_arbiter_v1_ListTransactionsResponse, _arbiter_v1_ListTransactionsResponse__Output>
      LogKnowledge: EnumTypeDefinition
      NodeInfo: MessageTypeDefinition<_arbiter_v1_NodeInfo, _arbiter_v1_NodeInfo__Output>
      RecoveryAction: EnumTypeDefinition
      RecoveryStep: MessageTypeDefinition<_arbiter_v1_RecoveryStep, _arbiter_v1_RecoveryStep__Output>
      Resolution: EnumTypeDefinition
      ResolveBranchRequest: MessageTypeDefinition<_arbiter_v1_ResolveBranchRequest, _arbiter_v1_ResolveBranchRequest__Output>
      ResolveBranchResponse: MessageTypeDefinition<_arbiter_v1_ResolveBranchResponse, _arbiter_v1_ResolveBranchResponse__Output>
      ResourceHealth: MessageTypeDefinition<_arbiter_v1_ResourceHealth, _arbiter_v1_ResourceHealth__Output>
      ResourceState: EnumTypeDefinition
      RunRecoveryRequest: MessageTypeDefinition<_arbiter_v1_RunRecoveryRequest, _arbiter_v1_RunRecoveryRequest__Output>
      RunRecoveryResponse: MessageTypeDefinition<_arbiter_v1_RunRecoveryResponse, _arbiter_v1_RunRecoveryResponse__Output>
      Transaction: MessageTypeDefinition<_arbiter_v1_Transaction, _arbiter_v1_Transaction__Output>
      TransactionState: EnumTypeDefinition
      TransactionSummary: MessageTypeDefinition<_arbiter_v1_TransactionSummary, _arbiter_v1_TransactionSummary__Output>
      WaitFor: EnumTypeDefinition
      Xid: MessageTypeDefinition<_arbiter_v1_Xid, _arbiter_v1_Xid__Output>
    }
  }
}

