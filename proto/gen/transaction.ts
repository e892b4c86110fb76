import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { Branch as _arbiter_v1_Branch, Branch__Output as _arbiter_v1_Branch__Output } from './arbiter/v1/Branch.js';
import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from './arbiter/v1/Transaction.js';
import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from './arbiter/v1/Xid.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  arbiter: {
    v1: {
      Branch: MessageTypeDefinition<_arbiter_v1_Branch, _arbiter_v1_Branch__Output>
      BranchMode: EnumTypeDefinition
      BranchState: EnumTypeDefinition
      Transaction: MessageTypeDefinition<_arbiter_v1_Transaction, _arbiter_v1_Transaction__Output>
      TransactionState: EnumTypeDefinition
      WaitFor: EnumTypeDefinition
      Xid: MessageTypeDefinition<_arbiter_v1_Xid, _arbiter_v1_Xid__Output>
    }
  }
}

