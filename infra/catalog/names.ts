/**
 * The names both the management and the member stacks must agree on: the event bus, the IAM path member roles
 * trust, the member role's default name, the tag on everything Capstan manages. Its own file because they are
 * deployment contracts between accounts, not properties of any one function.
 */

/** The name of the event bus member accounts forward their EC2 instance events to. */
export const EVENT_BUS_NAME = 'capstan-events';

/** The IAM path of the execution roles that act in member accounts; member roles trust exactly this path. */
export const WORKFLOW_ROLE_PATH = '/capstan/workflow/';

/** The default name of the role Capstan assumes in member accounts. */
export const DEFAULT_MEMBER_ROLE_NAME = 'CapstanMemberRole';

/** The tag marking resources Capstan created and may change or delete: `capstan.dev/managed=true`. */
export const MANAGED_TAG = { key: 'capstan.dev/managed', value: 'true' } as const;
