/** IAM pieces the stacks share. */

/**
 * The trust policy (a JSON document) of a role that the AWS service `service` (e.g. "states.amazonaws.com") assumes
 * with `sts:AssumeRole`. `condition`, when given, is the statement's Condition block, e.g.
 * `{ StringEquals: { "aws:SourceAccount": identity.accountId } }`: what keeps that service, acting for another account,
 * from assuming the role (IAM User Guide, "The confused deputy problem"); each service names its own key.
 */
export function assumedBy(service: string, condition?: Record<string, Record<string, $util.Input<string>>>): $util.Output<string> {
  const statement = { Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" };
  return $jsonStringify({ Version: "2012-10-17", Statement: [condition ? { ...statement, Condition: condition } : statement] });
}
