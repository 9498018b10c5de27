/**
 * The DynamoDB table every trailwatch feature keeps its state in: on-demand, encrypted with the feature's customer
 * managed key, point-in-time recovery on, items expiring through a TTL attribute.
 * - A customer managed key (`serverSideEncryption.kmsKeyArn`) rather than the AWS owned default, so reading the table's
 *   data needs the key too (the readers' roles get `useKey`).
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/EncryptionAtRest.html
 * - TTL deletes expired items within a few days of expiry, not at the second: readers still check the time.
 *   https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/howitworks-ttl.html
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { transformed, type Transform } from "./transform";

export interface EncryptedTableArgs {
  /** The customer managed key that encrypts the table (and its stream). */
  readonly keyArn: pulumi.Input<string>;
  /** The partition key attribute (a string). @default "pk" */
  readonly hashKey?: string;
  /** A sort key attribute (a string), if the table has one. */
  readonly rangeKey?: string;
  /** The attribute holding an item's expiry (epoch seconds), or false for items that never expire. */
  readonly ttlAttribute: string | false;
  /** A stream of new images (for a worker that reacts to item changes). @default false */
  readonly stream?: boolean;
  /** Customize the table's args. */
  readonly transform?: Transform<aws.dynamodb.TableArgs>;
}

export function encryptedTable(name: string, args: EncryptedTableArgs, opts: pulumi.CustomResourceOptions): aws.dynamodb.Table {
  const hashKey = args.hashKey ?? "pk";
  const ttl = args.ttlAttribute;
  const tableArgs: aws.dynamodb.TableArgs = {
    billingMode: "PAY_PER_REQUEST",
    hashKey,
    ...(args.rangeKey ? { rangeKey: args.rangeKey } : {}),
    attributes: [{ name: hashKey, type: "S" }, ...(args.rangeKey ? [{ name: args.rangeKey, type: "S" }] : [])],
    serverSideEncryption: { enabled: true, kmsKeyArn: args.keyArn },
    pointInTimeRecovery: { enabled: true },
    ...(ttl ? { ttl: { attributeName: ttl, enabled: true } } : {}),
    ...(args.stream ? { streamEnabled: true, streamViewType: "NEW_IMAGE" } : {}),
  };
  return new aws.dynamodb.Table(...transformed(args.transform, name, tableArgs, opts));
}
