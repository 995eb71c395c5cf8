# GitHub Actions -> AWS without stored keys. Two roles, both trusting only
# this repository's OIDC tokens:
#   push role    sub = repo:OWNER/NAME:ref:refs/heads/main (and v* tags):
#                push to the one ECR repository
#   deploy role  sub = repo:OWNER/NAME:environment:production:
#                describe the one cluster; Kubernetes rights come from the
#                EKS access entry (namespace-scoped), set in the eks module
locals {
  issuer            = "token.actions.githubusercontent.com"
  oidc_provider_arn = coalesce(var.existing_oidc_provider_arn, one(aws_iam_openid_connect_provider.github[*].arn))
  push_subjects     = [for ref in var.push_refs : "repo:${var.github_repository}:ref:${ref}"]
  deploy_subject    = "repo:${var.github_repository}:environment:${var.deploy_environment}"
}

resource "aws_iam_openid_connect_provider" "github" {
  count = var.existing_oidc_provider_arn == null ? 1 : 0

  url            = "https://${local.issuer}"
  client_id_list = ["sts.amazonaws.com"]
  # AWS validates GitHub's certificate against its own trust store; the
  # thumbprints are only what the API still asks for.
  thumbprint_list = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
  ]
}

# --- push role -----------------------------------------------------------------

data "aws_iam_policy_document" "push_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # StringLike only for a tag pattern such as refs/tags/v*; the repository
    # part of every subject is literal.
    condition {
      test     = "StringLike"
      variable = "${local.issuer}:sub"
      values   = local.push_subjects
    }
  }
}

resource "aws_iam_role" "push" {
  name                 = "${var.name_prefix}-github-ecr-push"
  description          = "GitHub Actions (${var.github_repository}, ${join(", ", var.push_refs)}): push users-api images"
  assume_role_policy   = data.aws_iam_policy_document.push_trust.json
  max_session_duration = var.max_session_hours * 3600
}

data "aws_iam_policy_document" "push" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # this action has no resource-level permissions
  }

  statement {
    sid = "PushAndReadBack"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = [var.ecr_repository_arn]
  }
}

resource "aws_iam_role_policy" "push" {
  name   = "push-users-api-images"
  role   = aws_iam_role.push.id
  policy = data.aws_iam_policy_document.push.json
}

# --- deploy role -----------------------------------------------------------------

data "aws_iam_policy_document" "deploy_trust" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:aud"
      values   = ["sts.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer}:sub"
      values   = [local.deploy_subject]
    }
  }
}

resource "aws_iam_role" "deploy" {
  name                 = "${var.name_prefix}-github-deploy"
  description          = "GitHub Actions (${var.github_repository}, environment ${var.deploy_environment}): deploy users-api to EKS"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust.json
  max_session_duration = var.max_session_hours * 3600
}

data "aws_iam_policy_document" "deploy" {
  statement {
    sid       = "FindTheCluster"
    actions   = ["eks:DescribeCluster"]
    resources = [var.eks_cluster_arn]
  }
}

resource "aws_iam_role_policy" "deploy" {
  name   = "describe-the-cluster"
  role   = aws_iam_role.deploy.id
  policy = data.aws_iam_policy_document.deploy.json
}
