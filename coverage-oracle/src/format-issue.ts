/** One zod issue as "path: message", for error messages that name the offending value. */
export function formatIssue(issue: { path: PropertyKey[]; message: string } | undefined): string {
  if (!issue) return 'is invalid';
  return `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
}
