// Original file: proto/arbiter/v1/values.proto


export interface Column {
  'name'?: (string);
  /**
   * The server's own type name where the driver tells it (e.g. "int4", "VARCHAR").
   */
  'type'?: (string);
}

export interface Column__Output {
  'name': (string);
  /**
   * The server's own type name where the driver tells it (e.g. "int4", "VARCHAR").
   */
  'type': (string);
}
