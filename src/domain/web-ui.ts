/** Links into the Temporal Web UI. */
export function uiLink(webUi: string, namespace: string, workflowId: string): string {
  return `${webUi.replace(/\/$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
