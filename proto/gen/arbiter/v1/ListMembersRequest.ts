// Original file: proto/arbiter/v1/transaction_manager.proto


export interface ListMembersRequest {
}

export interface ListMembersRequest__Output {
}
