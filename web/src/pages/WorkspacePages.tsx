// The workspace and group pages, loaded when first opened (a chunk of their own: see
// components/lazy.tsx), so that the members pages load no faster or slower for them.
export { Workspaces } from "./Workspaces";
export { WorkspacePage } from "./Workspace";
export { Groups, GroupPage } from "./Groups";
export { MemberWorkspaces } from "./workspaces/MemberWorkspaces";
