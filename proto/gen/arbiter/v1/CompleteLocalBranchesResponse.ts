// Original file: proto/arbiter/v1/transaction_manager.proto


export interface CompleteLocalBranchesResponse {
}

export interface CompleteLocalBranchesResponse__Output {
}
