output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr_block" {
  description = "IPv4 range of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Subnets for internet-facing load balancers."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Subnets for the EKS nodes and pods."
  value       = aws_subnet.private[*].id
}

output "database_subnet_ids" {
  description = "Subnets for the database (no route out of the VPC)."
  value       = aws_subnet.database[*].id
}

output "database_subnet_cidrs" {
  description = "Ranges of the database subnets (for the pods' NetworkPolicy egress to PostgreSQL)."
  value       = aws_subnet.database[*].cidr_block
}

output "availability_zones" {
  description = "The zones in use."
  value       = local.azs
}
