// Original file: proto/arbiter/v1/admin.proto


export interface ListResourcesRequest {
}

export interface ListResourcesRequest__Output {
}
